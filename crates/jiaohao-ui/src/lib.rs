//! What the kiosk and the wall display share: the bundled Chinese font, the hall's colours, and
//! [`HubLink`], the background connection that keeps a copy of the hall current from the hub's
//! event stream and wakes the UI when it changes. The UI thread never waits on the network.

pub mod fonts;
pub mod link;
pub mod theme;

pub use link::{HubLink, LinkStatus};
