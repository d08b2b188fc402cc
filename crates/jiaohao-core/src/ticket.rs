//! A ticket and its life: `waiting → called → done | no_show | transferred | expired`.

use crate::booking::BookingCode;
use crate::event::TransferTarget;
use crate::ids::{ServiceCode, TicketId, TicketNumber, WindowNumber};
use crate::rating::TicketRating;
use crate::time::Millis;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TicketStatus {
    /// In its service's queue since it was issued.
    Waiting,
    /// Called to a window and being served there.
    Called,
    Done,
    NoShow,
    /// Sent on by a clerk to another service or window (换人接待); it waits there again with
    /// its original issue time, so it keeps its place.
    Transferred,
    /// Still waiting or being served when the day ended.
    Expired,
}

impl TicketStatus {
    /// Whether the ticket is in a queue waiting for a window to call it.
    pub fn is_queued(self) -> bool {
        matches!(self, TicketStatus::Waiting | TicketStatus::Transferred)
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            TicketStatus::Done | TicketStatus::NoShow | TicketStatus::Expired
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Waiting => "waiting",
            TicketStatus::Called => "called",
            TicketStatus::Done => "done",
            TicketStatus::NoShow => "no_show",
            TicketStatus::Transferred => "transferred",
            TicketStatus::Expired => "expired",
        }
    }
}

/// One hop of a ticket's transfer chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    pub from_service: ServiceCode,
    pub from_window: WindowNumber,
    pub to: TransferTarget,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub id: TicketId,
    pub number: TicketNumber,
    /// The unguessable public token of the ticket page; chosen by the caller.
    pub token: String,
    /// The service whose queue the ticket is in (changes on a transfer to another service).
    pub service: ServiceCode,
    pub green_channel: bool,
    pub issued_at: Millis,
    /// What orders the ticket in its queue: a walk-in's issue time; a checked-in booking's
    /// slot start if it checked in before it, else its check-in time.
    pub queue_time: Millis,
    /// The booking whose check-in issued the ticket (预约).
    pub booking: Option<BookingCode>,
    pub first_called_at: Option<Millis>,
    pub called_at: Option<Millis>,
    pub finished_at: Option<Millis>,
    /// The window that called it last.
    pub window: Option<WindowNumber>,
    /// Set by a transfer to a window: only that window may call the ticket.
    pub pinned_window: Option<WindowNumber>,
    pub status: TicketStatus,
    pub transfers: Vec<Transfer>,
    pub recalls: u32,
    pub idempotency_key: Option<String>,
    /// The citizen's rating, once given.
    pub rating: Option<TicketRating>,
}

impl Ticket {
    /// The key that orders a queue: earlier queue time first, then earlier id. A transfer
    /// keeps the queue time, so a transferred ticket keeps its place.
    pub fn queue_key(&self) -> (Millis, TicketId) {
        (self.queue_time, self.id)
    }
}
