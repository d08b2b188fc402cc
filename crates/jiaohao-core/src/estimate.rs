//! The wait estimate (预计等待): projects the hall forward under the hall's call-next policy —
//! the windows that are working, what each serves, how long its current ticket has run — to
//! tell when each waiting ticket will be called, and how long a ticket issued now would wait.
//!
//! Handling times are the hall's expected values ([`Hall::expected_handling_ms`]); windows that
//! are paused or closed are assumed to stay so; no further arrivals are assumed except the one
//! hypothetical ticket whose wait is asked for.

use std::collections::{BTreeMap, HashMap};
use std::ops::ControlFlow;

use crate::dispatch::{Caller, QueueEntry, Queues};
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
        let mut call_at = HashMap::new();
        run(hall, hall.queues().clone(), now, None, |id, at| {
            call_at.insert(id, at);
            ControlFlow::Continue(())
        });
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
                let wait = project_until(hall, queues, now, Some(&probe), probe.id)
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

    /// When one waiting ticket is projected to be called: the same answer as
    /// `Projection::of(hall, now).call_at(ticket)`, found by projecting only until that ticket
    /// is called (what the simulator needs at every ticket it issues).
    pub fn call_at_of(hall: &Hall, now: Millis, ticket: TicketId) -> Option<Millis> {
        project_until(hall, hall.queues().clone(), now, None, ticket)
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

/// Plays the policy forward until `ticket` is called; returns when.
fn project_until(
    hall: &Hall,
    queues: Queues,
    now: Millis,
    probe: Option<&QueueEntry>,
    ticket: TicketId,
) -> Option<Millis> {
    let mut found = None;
    run(hall, queues, now, probe, |id, at| {
        if id == ticket {
            found = Some(at);
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    found
}

/// Plays the policy forward: the window that frees first (idle longest on a tie) calls next.
/// Tells `on_call` each projected call in order, until it says stop or nothing more is called.
fn run(
    hall: &Hall,
    mut queues: Queues,
    now: Millis,
    probe: Option<&QueueEntry>,
    mut on_call: impl FnMut(TicketId, Millis) -> ControlFlow<()>,
) {
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
    // Counted here rather than asked of the queues at every step, which would sum them all.
    let mut waiting = queues.len();
    let policy = hall.policy();
    while waiting > 0 && !agents.is_empty() {
        let index = (0..agents.len())
            .min_by_key(|&i| (agents[i].free_at, agents[i].idle_since, agents[i].number))
            .unwrap_or(0);
        let agent = &mut agents[index];
        let caller = Caller {
            window: agent.number,
            services: agent.services,
            consecutive_green: agent.consecutive_green,
        };
        let Some(choice) = policy.choose(&queues, caller) else {
            // Nothing left that this window may serve, and nothing new arrives.
            agents.swap_remove(index);
            continue;
        };
        let entry = match probe {
            Some(probe) if probe.id == choice.id => Some(probe.clone()),
            _ => hall
                .ticket(choice.id)
                .and_then(|ticket| hall.queue_entry(ticket)),
        };
        let Some(entry) = entry else {
            agents.swap_remove(index);
            continue;
        };
        if queues.remove(&entry) {
            waiting -= 1;
        }
        let called_at = agent.free_at;
        agent.consecutive_green = if choice.green_channel {
            agent.consecutive_green + 1
        } else {
            0
        };
        agent.idle_since = agent.free_at;
        agent.free_at = agent
            .free_at
            .plus_ms(hall.expected_handling_ms(&entry.service));
        if on_call(choice.id, called_at).is_break() {
            return;
        }
    }
}
