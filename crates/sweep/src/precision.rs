//! Replications until a precision: a sweep with `--precision METRIC=TARGET` runs
//! [`SweepSpec::replications`] replications of every point, then, batch after batch, that many
//! more of each point whose 95% half-width of METRIC is still above the target, until every
//! point reaches it or has `--max-replications` (the last batch is cut to fit).
//!
//! Which runs a batch holds depends only on the results of the batches before it, and every
//! run is deterministic, so the same command runs the same replications on any number of
//! threads. A precision sweep cannot be sharded: which replications run depends on the
//! results of all of them, which no one shard has (`--shard` with `--precision` is refused).

use smtpsim_report::sweep::{Precision, SweepOutput};

use crate::{Runner, Sweep, SweepRunError, SweepSpec};

/// Refuses a precision a sweep cannot have.
pub(crate) fn check(precision: &Precision, spec: &SweepSpec) -> Result<(), SweepRunError> {
    if spec.shard.is_some() {
        return Err(SweepRunError::Definition(
            "--precision cannot be sharded: which replications run depends on the results of \
             every shard; run the sweep whole, or shard it with a fixed --replications"
                .into(),
        ));
    }
    if precision.max_replications < spec.replications {
        return Err(SweepRunError::Definition(format!(
            "--max-replications {} is below --replications {} (the first batch)",
            precision.max_replications, spec.replications
        )));
    }
    if spec.replications < 2 {
        return Err(SweepRunError::Definition(
            "--precision needs batches of at least 2 replications (--replications 2 or more) \
             to have an interval"
                .into(),
        ));
    }
    Ok(())
}

/// Runs batches until every point reaches the sweep's precision target or its maximum.
pub(crate) fn run_until(sweep: &Sweep, runner: &Runner) -> Result<SweepOutput, SweepRunError> {
    let definition = &sweep.definition;
    let batch = definition.replications;
    let max = definition.max_replications();
    let mut done = vec![0u32; definition.points()];
    let mut output = SweepOutput::new(definition.clone(), None, Vec::new());
    let mut active: Vec<usize> = (0..definition.points()).collect();
    while !active.is_empty() {
        let runs: Vec<(usize, u32)> = active
            .iter()
            .flat_map(|&p| (done[p]..(done[p] + batch).min(max)).map(move |r| (p, r)))
            .collect();
        for &(p, _) in &runs {
            done[p] += 1;
        }
        let mut results = std::mem::take(&mut output.runs);
        results.extend(runner.run_all(sweep, &runs)?);
        output = SweepOutput::new(definition.clone(), None, results);
        // The same decision as the points' `precision_reached` in the files.
        let points = output.points()?;
        active.retain(|&p| done[p] < max && points[p].precision_reached != Some(true));
    }
    Ok(output)
}
