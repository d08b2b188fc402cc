//! The kiosk's tests, one binary: the real `KioskApp` driven by `egui_kittest` against a real
//! hub in this process, the printed ESC/POS bytes, and the font's coverage.

mod checkin;
mod config;
mod fonts;
mod identity;
mod printing;
mod screens;
mod support;
