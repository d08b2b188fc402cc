//! The display's integration tests, one binary: against a real hub started in this process
//! (`live`, `voice`), and of the drawing and its
//! timing alone (`glyphs`, `idle`).

mod clock;
mod config;
mod figures;
mod glyphs;
mod idle;
mod live;
mod support;
mod voice;
