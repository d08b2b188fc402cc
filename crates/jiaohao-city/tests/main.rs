//! The city service's tests against a real PostgreSQL (`JIAOHAO_TEST_POSTGRES`, see
//! `scripts/pg-throwaway.sh`) and real hubs on 127.0.0.1. Without PostgreSQL every test says
//! SKIPPED; under `CI=true` it fails instead.

mod cases;
mod faults;
mod follow;
mod halls_page;
mod ingest;
mod pickup;
mod support;
mod users;
