//! Shared test helpers: the fake Telegram Bot API server and friends.

pub mod bot_process;
pub mod fake_bot_api;
pub mod redis_server;
