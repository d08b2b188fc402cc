//! The wait estimate (预计等待): projects the hall forward under the real call-next policy —
//! the windows that are working, what each serves, how long its current ticket has run — to
//! tell when each waiting ticket will be called, and how long a ticket issued now would wait.
//!
//! Handling times are the hall's expected values ([`Hall::expected_handling_ms`]); windows that
//! are paused or closed are assumed to stay so; no further arrivals are assumed except the one
//! hypothetical ticket whose wait is asked for.

use std::collections::{BTreeMap, HashMap};

use crate::dispatch::{self, Caller, QueueEntry, Queues};
use crate::hall::Hall;
use crate::ids::{ServiceCode, TicketId, WindowNumber};
use crate::time::Millis;
use crate::window::WindowState;

/// A ticket that runs past its expected handling time is assumed to need at least this share
/// of the expected time again.
const OVERRUN_REMAINING_SHARE: i64 = 4;

/// The projected future of the hall at one instant.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Projection {
    /// When each waiting ticket is projected to be called; absent if no working window can.
    call_at: HashMap<TicketId, Millis>,
    /// The projected wait of a normal ticket issued now, per service, in milliseconds;
    /// `None` if no working window would call it.
    new_ticket_wait_ms: BTreeMap<ServiceCode, Option<i64>>,
    now: Millis,
}

impl Projection {
    /// Projects the hall forward from `now`.
    pub fn of(hall: &Hall, now: Millis) -> Projection {
        let call_at = run(hall, hall.queues().clone(), now, None);
        let new_ticket_wait_ms = hall
            .services()
            .into_iter()
            .map(|service| {
                let probe = QueueEntry {
                    id: TicketId(u64::MAX),
                    issued_at: now,
                    service: service.code.clone(),
                    green_channel: false,
                    pinned_window: None,
                };
                let mut queues = hall.queues().clone();
                queues.push(&probe);
                let wait = run(hall, queues, now, Some(&probe))
                    .get(&probe.id)
                    .map(|at| at.since(now));
                (service.code.clone(), wait)
            })
            .collect();
        Projection {
            call_at,
            new_ticket_wait_ms,
            now,
        }
    }

    /// The projected remaining wait of a waiting ticket, in milliseconds.
    pub fn wait_ms(&self, ticket: TicketId) -> Option<i64> {
        self.call_at.get(&ticket).map(|at| at.since(self.now))
    }

    /// When a waiting ticket is projected to be called.
    pub fn call_at(&self, ticket: TicketId) -> Option<Millis> {
        self.call_at.get(&ticket).copied()
    }

    /// The projected wait of a ticket issued now for a service, in milliseconds.
    pub fn new_ticket_wait_ms(&self, service: &ServiceCode) -> Option<i64> {
        self.new_ticket_wait_ms.get(service).copied().flatten()
    }
}

struct Agent<'a> {
    number: WindowNumber,
    services: &'a [ServiceCode],
    consecutive_green: u32,
    free_at: Millis,
    idle_since: Millis,
}

/// Plays the policy forward: the window that frees first (idle longest on a tie) calls next.
fn run(
    hall: &Hall,
    mut queues: Queues,
    now: Millis,
    probe: Option<&QueueEntry>,
) -> HashMap<TicketId, Millis> {
    let mut entries: HashMap<TicketId, QueueEntry> = hall
        .tickets()
        .iter()
        .filter_map(|ticket| hall.queue_entry(ticket))
        .map(|entry| (entry.id, entry))
        .collect();
    if let Some(probe) = probe {
        entries.insert(probe.id, probe.clone());
    }
    let mut agents: Vec<Agent<'_>> = hall
        .windows()
        .filter_map(|window| {
            let (free_at, idle_since) = match &window.state {
                WindowState::Open => (now, window.state_since),
                WindowState::Serving { ticket } => {
                    let expected = hall
                        .ticket(*ticket)
                        .map_or(0, |t| hall.expected_handling_ms(&t.service));
                    let elapsed = now.since(window.state_since);
                    let remaining = (expected - elapsed).max(expected / OVERRUN_REMAINING_SHARE);
                    (now.plus_ms(remaining), now)
                }
                WindowState::Closed | WindowState::Paused { .. } => return None,
            };
            Some(Agent {
                number: window.number(),
                services: &window.def.services,
                consecutive_green: window.consecutive_green,
                free_at,
                idle_since,
            })
        })
        .collect();
    let mut call_at = HashMap::new();
    while !queues.is_empty() && !agents.is_empty() {
        let index = (0..agents.len())
            .min_by_key(|&i| (agents[i].free_at, agents[i].idle_since, agents[i].number))
            .unwrap_or(0);
        let agent = &mut agents[index];
        let caller = Caller {
            window: agent.number,
            services: agent.services,
            consecutive_green: agent.consecutive_green,
        };
        let Some(choice) = dispatch::choose(&queues, caller) else {
            // Nothing left that this window may serve, and nothing new arrives.
            agents.swap_remove(index);
            continue;
        };
        let Some(entry) = entries.remove(&choice.id) else {
            agents.swap_remove(index);
            continue;
        };
        queues.remove(&entry);
        call_at.insert(choice.id, agent.free_at);
        agent.consecutive_green = if choice.green_channel {
            agent.consecutive_green + 1
        } else {
            0
        };
        agent.idle_since = agent.free_at;
        agent.free_at = agent
            .free_at
            .plus_ms(hall.expected_handling_ms(&entry.service));
    }
    call_at
}
