//! Arrival processes: when each sender's next message comes.

use std::path::Path;

use rand_distr::{Distribution, Exp};
use smtpsim_des::{SimDuration, SimRng, SimTime};

use super::SimError;
use crate::scenario::{Arrivals, Burst};

/// Generates one sender's arrival times, in order.
#[derive(Debug, Clone)]
pub(crate) enum ArrivalGen {
    Poisson {
        gap: Exp<f64>,
    },
    Constant {
        per_second: f64,
        count: u64,
    },
    /// Sorted times (bursts expanded lazily would save memory; campaigns are bounded by the
    /// message count, and a list keeps the order simple).
    List {
        times: Vec<SimTime>,
        next: usize,
    },
}

impl ArrivalGen {
    pub fn new(arrivals: &Arrivals, base: Option<&Path>) -> Result<ArrivalGen, SimError> {
        Ok(match arrivals {
            Arrivals::Poisson { rate } => ArrivalGen::Poisson {
                gap: Exp::new(rate.per_second).map_err(|e| SimError(e.to_string()))?,
            },
            Arrivals::Constant { rate } => ArrivalGen::Constant {
                per_second: rate.per_second,
                count: 0,
            },
            Arrivals::Bursts { bursts } => ArrivalGen::List {
                times: expand(bursts),
                next: 0,
            },
            Arrivals::Csv { file } => {
                let path = match base.and_then(Path::parent) {
                    Some(dir) => dir.join(file),
                    None => file.clone(),
                };
                ArrivalGen::List {
                    times: read_csv(&path)?,
                    next: 0,
                }
            }
        })
    }

    /// The arrival after one at `last` (the first one if `last` is `None`).
    pub fn next(&mut self, last: Option<SimTime>, rng: &mut SimRng) -> Option<SimTime> {
        match self {
            ArrivalGen::Poisson { gap } => {
                let from = last.unwrap_or(SimTime::ZERO);
                Some(from + SimDuration::from_secs_f64(gap.sample(rng)))
            }
            ArrivalGen::Constant { per_second, count } => {
                // Computed from the count, not by adding gaps, so it never drifts.
                let t = *count as f64 / *per_second;
                *count += 1;
                Some(SimTime::ZERO + SimDuration::from_secs_f64(t))
            }
            ArrivalGen::List { times, next } => {
                let t = times.get(*next).copied();
                *next += 1;
                t
            }
        }
    }
}

fn expand(bursts: &[Burst]) -> Vec<SimTime> {
    let mut times = Vec::new();
    for burst in bursts {
        let start = burst.at.micros();
        let over = burst.over.micros();
        for i in 0..burst.count {
            let offset = (u128::from(over) * u128::from(i) / u128::from(burst.count)) as u64;
            times.push(SimTime::from_micros(start + offset));
        }
    }
    times.sort();
    times
}

fn read_csv(path: &Path) -> Result<Vec<SimTime>, SimError> {
    let fail = |what: String| SimError(format!("{}: {what}", path.display()));
    let mut reader = csv::Reader::from_path(path).map_err(|e| fail(e.to_string()))?;
    let headers = reader.headers().map_err(|e| fail(e.to_string()))?.clone();
    let column = headers
        .iter()
        .position(|h| h.trim() == "time")
        .ok_or_else(|| fail("no column named \"time\"".to_string()))?;
    let mut times = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let row = row.map_err(|e| fail(e.to_string()))?;
        let cell = row.get(column).unwrap_or("").trim();
        let line = i + 2;
        let time = if let Ok(secs) = cell.parse::<f64>() {
            if !(secs >= 0.0 && secs.is_finite()) {
                return Err(fail(format!("line {line}: time {cell:?} is not a time")));
            }
            SimDuration::from_secs_f64(secs)
        } else {
            cell.parse::<SimDuration>()
                .map_err(|e| fail(format!("line {line}: time {cell:?}: {e}")))?
        };
        times.push(SimTime::ZERO + time);
    }
    times.sort();
    Ok(times)
}
