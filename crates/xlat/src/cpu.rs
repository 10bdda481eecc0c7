//! `--cpu NAME` of `run`, `test-roms` and `diff`: the CPU model
//! (`cpu_model::model`, described in docs/cpu-models.md). `--cpu help`
//! lists the models and exits with status 0; an unknown name is a usage
//! error (status 2, from clap).

use cpu_model::model::MODELS;
use cpu_model::CpuModel;
use std::process::ExitCode;

/// A `--cpu` value.
#[derive(Clone, Copy, Debug)]
pub enum CpuArg {
    /// `--cpu help`: list the models.
    Help,
    Model(&'static CpuModel),
}

impl Default for CpuArg {
    fn default() -> Self {
        CpuArg::Model(MODELS[0])
    }
}

impl std::fmt::Display for CpuArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CpuArg::Help => f.write_str("help"),
            CpuArg::Model(m) => f.write_str(m.name),
        }
    }
}

fn names() -> String {
    MODELS.iter().map(|m| m.name).collect::<Vec<_>>().join(", ")
}

impl std::str::FromStr for CpuArg {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text == "help" {
            return Ok(CpuArg::Help);
        }
        CpuModel::by_name(text).map(CpuArg::Model).ok_or_else(|| {
            format!(
                "unknown CPU model {text:?}; the models are {} (`--cpu help` describes them)",
                names()
            )
        })
    }
}

impl CpuArg {
    /// The model, or `Err(status)` after printing the list for `help`.
    pub fn model(self) -> Result<&'static CpuModel, ExitCode> {
        match self {
            CpuArg::Model(m) => Ok(m),
            CpuArg::Help => {
                let width = MODELS.iter().map(|m| m.name.len()).max().unwrap_or(0);
                for m in MODELS {
                    println!("{:width$}  {}", m.name, m.description);
                }
                Err(ExitCode::SUCCESS)
            }
        }
    }
}
