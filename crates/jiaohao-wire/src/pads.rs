//! Rating pads (评价器): the one-time code an admin shows to pair a tablet with a window, and
//! the pads paired.

use serde::{Deserialize, Serialize};

/// The answer of `POST /api/windows/{n}/pairing`: the code to type on the tablet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairingCode {
    pub window: u16,
    /// 6 letters and digits without 0, O, 1 or I.
    pub code: String,
    /// When the code stops working (RFC 3339, the hall's time zone).
    pub expires_at: String,
}

/// The body of `POST /api/rating-pad`: the code the admin showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairRequest {
    pub code: String,
}

/// A paired rating pad: the answer of pairing and of `GET /api/rating-pad`, and a row of
/// `GET /api/rating-pads`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingPad {
    /// The id of its device token (what unpairing names).
    pub id: i64,
    pub window: u16,
    pub name: String,
    pub created_at: String,
}
