import { configure } from '@testing-library/react'

// These tests wait on real servers and sockets; on a loaded 2-core CI machine a round trip can
// take longer than testing-library's 1 s default, which is about DOM updates, not networks.
configure({ asyncUtilTimeout: 10_000 })
