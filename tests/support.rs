//! What every whole-system test needs, from the workspace's one test harness
//! (`jiaohao-testkit`): a real hub on `127.0.0.1:0` over a fresh SQLite file, with a clock the
//! test moves, tokens for each role, clients, and bounded waits on answers and on the live
//! stream.

pub use jiaohao_testkit::*;
