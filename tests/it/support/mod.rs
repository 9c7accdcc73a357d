//! Shared test helpers: the fake Telegram Bot API server and friends.

pub mod fake_bot_api;
