//! Arrival processes: when each sender's next message comes.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
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
    /// Campaigns, expanded one arrival at a time.
    Bursts(BurstGen),
    /// Sorted times (read from a file).
    List {
        times: Vec<SimTime>,
        next: usize,
    },
}

/// The arrivals of several campaigns in time order, without listing them: each campaign's
/// next arrival waits in a heap.
#[derive(Debug, Clone)]
pub(crate) struct BurstGen {
    bursts: Vec<Burst>,
    /// Arrivals of each campaign handed out so far.
    issued: Vec<u64>,
    /// The next arrival of each campaign that has one left, and the campaign.
    due: BinaryHeap<Reverse<(SimTime, usize)>>,
}

impl BurstGen {
    fn new(bursts: &[Burst]) -> BurstGen {
        let due = bursts
            .iter()
            .enumerate()
            .filter(|(_, b)| b.count > 0)
            .map(|(i, b)| Reverse((arrival_of(b, 0), i)))
            .collect();
        BurstGen {
            bursts: bursts.to_vec(),
            issued: vec![0; bursts.len()],
            due,
        }
    }

    fn next(&mut self) -> Option<SimTime> {
        let Reverse((at, i)) = self.due.pop()?;
        self.issued[i] += 1;
        let burst = &self.bursts[i];
        if self.issued[i] < burst.count {
            self.due
                .push(Reverse((arrival_of(burst, self.issued[i]), i)));
        }
        Some(at)
    }
}

/// Arrival `i` of a campaign: spread evenly over `over` from `at`.
fn arrival_of(burst: &Burst, i: u64) -> SimTime {
    let over = u128::from(burst.over.micros());
    let offset = (over * u128::from(i) / u128::from(burst.count.max(1))) as u64;
    SimTime::from_micros(burst.at.micros().saturating_add(offset))
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
            Arrivals::Bursts { bursts } => ArrivalGen::Bursts(BurstGen::new(bursts)),
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
            ArrivalGen::Bursts(bursts) => bursts.next(),
            ArrivalGen::List { times, next } => {
                let t = times.get(*next).copied();
                *next += 1;
                t
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn burst(at: u64, count: u64, over: u64) -> Burst {
        Burst {
            at: crate::scenario::Duration::from_micros(at),
            count,
            over: crate::scenario::Duration::from_micros(over),
        }
    }

    /// Every arrival listed and sorted: what the lazy expansion must give, in order.
    fn listed(bursts: &[Burst]) -> Vec<SimTime> {
        let mut times: Vec<SimTime> = bursts
            .iter()
            .flat_map(|b| (0..b.count).map(move |i| arrival_of(b, i)))
            .collect();
        times.sort();
        times
    }

    #[test]
    fn overlapping_bursts_come_in_time_order() {
        let bursts = [
            burst(100, 5, 50),
            burst(0, 3, 0),
            burst(110, 4, 1000),
            burst(7, 0, 9),
        ];
        let mut lazy = BurstGen::new(&bursts);
        let got: Vec<SimTime> = std::iter::from_fn(|| lazy.next()).collect();
        assert_eq!(got, listed(&bursts));
    }

    #[test]
    fn a_huge_burst_is_not_listed() {
        let mut lazy = BurstGen::new(&[burst(u64::MAX - 5, 1_000_000_000_000, u64::MAX)]);
        assert_eq!(lazy.next(), Some(SimTime::from_micros(u64::MAX - 5)));
        assert_eq!(lazy.due.len(), 1);
    }
}
