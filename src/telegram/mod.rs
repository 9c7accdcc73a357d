//! The Telegram adapter: a thin teloxide layer over the conversation engine.

pub mod storage;

use std::process::ExitCode;

/// Flags of `klonopin-bot serve`.
#[derive(clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub content: crate::cli::ContentArgs,
}

pub fn serve(_args: ServeArgs) -> Result<ExitCode, String> {
    Err("serve is not built yet".to_owned())
}
