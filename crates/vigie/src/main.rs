//! `vigie`: one binary for the analysis pipeline, the operators' console and the tools around them.

mod analyze;
mod bench;
mod settings;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "vigie", version, about = "Accountable video analysis for a city's video-protection centre")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the whole pipeline over a clip as fast as possible and write the tracks.
    Analyze(analyze::AnalyzeArgs),
    /// Speed and memory figures, side by side with the Python reference.
    Bench(bench::BenchArgs),
    /// Measure accuracy against ground truth.
    #[command(subcommand)]
    Eval(EvalCmd),
}

#[derive(Subcommand)]
enum EvalCmd {
    /// MOTChallenge 2D metrics (CLEAR, identity, HOTA) of a tracker result against ground truth.
    Mot(vigie_eval::EvalMotArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let res = match cli.cmd {
        Cmd::Analyze(a) => analyze::run(&a),
        Cmd::Bench(a) => bench::run(&a),
        Cmd::Eval(EvalCmd::Mot(a)) => vigie_eval::run_mot(&a),
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
