//! The five policies every benchmark reports (see `crates/jiaohao-sim/scenarios/README.md`): each is a
//! window assignment plus one of the core's call-next rules, so the hall runs the very code
//! the hub runs and only its configuration differs.

use jiaohao_core::{Policy, ServiceCode};

use crate::scenario::{Scenario, WindowSpec};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BenchPolicy {
    /// Each window serves only its primary service, oldest first.
    Static,
    /// Each window serves its primary service first, its other services when that queue is
    /// empty.
    PrimaryFirst,
    /// The oldest waiting ticket among the window's services.
    Fcfs,
    /// What the hub runs.
    Hub,
    /// Every window serves every service, oldest first.
    Pooled,
}

impl BenchPolicy {
    /// All of them, in the order the reports list them.
    pub const ALL: [BenchPolicy; 5] = [
        BenchPolicy::Static,
        BenchPolicy::PrimaryFirst,
        BenchPolicy::Fcfs,
        BenchPolicy::Hub,
        BenchPolicy::Pooled,
    ];

    /// The name in reports and JSON.
    pub fn name(self) -> &'static str {
        match self {
            BenchPolicy::Static => "static",
            BenchPolicy::PrimaryFirst => "primary-first",
            BenchPolicy::Fcfs => "fcfs",
            BenchPolicy::Hub => "hub",
            BenchPolicy::Pooled => "pooled",
        }
    }

    pub fn parse(text: &str) -> Option<BenchPolicy> {
        BenchPolicy::ALL.into_iter().find(|p| p.name() == text)
    }

    /// The core's call-next rule the hall runs.
    pub fn rule(self) -> Policy {
        match self {
            BenchPolicy::Static | BenchPolicy::Fcfs | BenchPolicy::Pooled => Policy::OldestFirst,
            BenchPolicy::PrimaryFirst => Policy::PrimaryFirst,
            BenchPolicy::Hub => Policy::Hub,
        }
    }

    /// The services a window is assigned under this policy, its primary service first.
    pub fn assignment(self, scenario: &Scenario, window: &WindowSpec) -> Vec<ServiceCode> {
        match self {
            BenchPolicy::Static => window.primary().into_iter().cloned().collect(),
            BenchPolicy::PrimaryFirst | BenchPolicy::Fcfs | BenchPolicy::Hub => {
                window.services.clone()
            }
            BenchPolicy::Pooled => {
                let mut services = window.services.clone();
                for service in &scenario.services {
                    if !services.contains(&service.code) {
                        services.push(service.code.clone());
                    }
                }
                services
            }
        }
    }
}
