//! `vigie`: one binary for the analysis pipeline, the operators' console and the tools around them.

mod cmd;

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
    Analyze(cmd::analyze::AnalyzeArgs),
    /// Speed and memory figures, side by side with the Python reference.
    Bench(cmd::bench::BenchArgs),
    /// Measure accuracy against ground truth.
    #[command(subcommand)]
    Eval(cmd::eval::EvalCmd),
    /// Create a data directory and its first administrator (password on standard input).
    Init(cmd::init::InitArgs),
    /// Manage console users: add, passwd, disable, set (their sectors).
    User(cmd::user::UserArgs),
    /// Check the audit trail's hash chain.
    Audit(cmd::audit::AuditArgs),
    /// Footage retention: status, or a deletion pass now.
    Retention(cmd::retention::RetentionArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let data = match &cli.cmd {
        Cmd::Run(_) => None,
        Cmd::Init(a) => Some(a.data.clone()),
        Cmd::User(a) => Some(a.command.data().to_path_buf()),
        Cmd::Audit(a) => a.command.data().map(Path::to_path_buf),
        Cmd::Retention(a) => Some(cmd::retention::data(a).clone()),
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
        Cmd::Analyze(a) => cmd::analyze::run(&a),
        Cmd::Bench(a) => cmd::bench::run(&a),
        Cmd::Eval(e) => cmd::eval::run(&e),
        Cmd::Init(a) => cmd::init::run(a),
        Cmd::User(a) => cmd::user::run(a),
        Cmd::Audit(a) => cmd::audit::run(a),
        Cmd::Retention(a) => cmd::retention::run(&a),
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
