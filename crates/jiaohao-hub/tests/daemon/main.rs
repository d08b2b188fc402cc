//! The real `jiaohao-hub` binary of this package, run as a process: its commands, its
//! settings from a file and the environment, and its behaviour under `kill -9` and `SIGTERM`.
//! One test binary, one module per area; the shared harness is `jiaohao-testkit`.

mod binary;
mod crash;
mod flood;
mod takeover;
