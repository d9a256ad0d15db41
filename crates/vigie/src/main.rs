//! `vigie`: one binary for the analysis pipeline, the operators' console and the tools around them.

mod analyze;
mod bench;
mod bench_fuzz;
mod bench_latency;
mod cmd;
mod config;
mod eval_events;
mod settings;

use cmd::run;

use clap::{Parser, Subcommand};
use std::path::Path;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "vigie", version, about = "Accountable video analysis for a city's video-protection centre")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a node: cameras, analysis, alerts, archive and the operators' console.
    Run(run::RunArgs),
    /// Run the whole pipeline over a clip as fast as possible and write the tracks.
    Analyze(analyze::AnalyzeArgs),
    /// Speed and memory figures, side by side with the Python reference.
    Bench(bench::BenchArgs),
    /// Measure accuracy against ground truth.
    #[command(subcommand)]
    Eval(EvalCmd),
    /// Create a data directory and its first administrator (password on standard input).
    Init(vigie_store::cli::InitArgs),
    /// Manage console users: add, passwd, disable.
    User(vigie_store::cli::UserArgs),
    /// Check the audit trail's hash chain.
    Audit(vigie_store::cli::AuditArgs),
    /// Footage retention: status, or a deletion pass now.
    Retention(vigie_archive::RetentionArgs),
}

#[derive(Subcommand)]
enum EvalCmd {
    /// MOTChallenge 2D metrics (CLEAR, identity, HOTA) of a tracker result against ground truth.
    Mot(vigie_eval::EvalMotArgs),
    /// Event rules on scenarios: precision, recall and alert delay per event type.
    Events(eval_events::EvalEventsArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let data = match &cli.cmd {
        Cmd::Run(_) => None,
        Cmd::Init(a) => Some(a.data.clone()),
        Cmd::User(a) => Some(a.command.data().to_path_buf()),
        Cmd::Audit(a) => a.command.data().map(Path::to_path_buf),
        Cmd::Retention(a) => Some(retention_data(a).clone()),
        Cmd::Analyze(_) | Cmd::Bench(_) | Cmd::Eval(_) => None,
    };
    let writes_data = matches!(cli.cmd, Cmd::Run(_) | Cmd::Init(_) | Cmd::User(_) | Cmd::Audit(_) | Cmd::Retention(_));
    if writes_data {
        owner_only_files();
    }
    // Only a folder that holds Vigie data is checked (a mistyped path is not ours to change).
    let holds_data = |d: &std::path::PathBuf| d.join(vigie_store::DB_FILE).exists() || d.join("archive.db").exists();
    if let Some(d) = data.filter(holds_data) {
        match vigie_store::secure_data_dir(&d) {
            Ok(fixed) => {
                for line in vigie_store::describe_fixed_permissions(&d, &fixed) {
                    eprintln!("warning: {line}");
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let res = match cli.cmd {
        Cmd::Run(a) => run::run(&a),
        Cmd::Analyze(a) => analyze::run(&a),
        Cmd::Bench(a) => bench::run(&a),
        Cmd::Eval(EvalCmd::Mot(a)) => vigie_eval::run_mot(&a),
        Cmd::Eval(EvalCmd::Events(a)) => eval_events::run(&a),
        Cmd::Init(a) => vigie_store::cli::run_init(a),
        Cmd::User(a) => vigie_store::cli::run_user(a),
        Cmd::Audit(a) => vigie_store::cli::run_audit(a),
        Cmd::Retention(a) => retention(&a),
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, naming the thing and what is wrong.
            eprintln!("error: {}", format!("{e:#}").replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

/// Everything the data commands create (footage, exports, the catalogue and its journal) is
/// for the service account alone, whatever umask the shell or unit file left.
fn owner_only_files() {
    #[cfg(unix)]
    // SAFETY: umask only changes this process's file-creation mask; it cannot fail.
    unsafe {
        libc::umask(0o077);
    }
}

fn retention_data(a: &vigie_archive::RetentionArgs) -> &std::path::PathBuf {
    match &a.command {
        vigie_archive::RetentionCommand::Status { data, .. } | vigie_archive::RetentionCommand::Run { data, .. } => {
            data
        }
    }
}

fn retention(a: &vigie_archive::RetentionArgs) -> anyhow::Result<()> {
    let data = retention_data(a);
    let store = vigie_store::Store::open(data, std::sync::Arc::new(vigie_core::SystemClock::default()))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let report = vigie_archive::run_retention(a, None, std::sync::Arc::new(store))?;
    println!("{report}");
    Ok(())
}
