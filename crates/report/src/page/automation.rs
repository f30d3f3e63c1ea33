//! `automation.csv` read back for the time series: each event of an automation rule, its
//! times in hours.

use std::path::Path;

use super::charts::RuleEvent;
use super::{PageError, read_csv};
use crate::{AUTOMATION_CSV, AUTOMATION_HEADER};

/// The rule events of the run in `dir`, in time order, times in hours; none when the output
/// has no `automation.csv` (a mail log's, or one written before rules were recorded).
pub(super) fn rule_events(dir: &Path) -> Result<Vec<RuleEvent>, PageError> {
    let path = dir.join(AUTOMATION_CSV);
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let bad = |message: String| PageError::Parse {
        path: path.clone(),
        message,
    };
    let hours = |line: usize, field: &str, text: &str| -> Result<f64, PageError> {
        text.parse::<f64>()
            .map(|s| s / 3600.0)
            .map_err(|e| bad(format!("line {line}, {field}: {e}")))
    };
    let mut events = Vec::new();
    for (line, row) in read_csv(&path, &AUTOMATION_HEADER)? {
        let field = |name: &str| {
            let at = AUTOMATION_HEADER.iter().position(|h| *h == name);
            at.and_then(|at| row.get(at)).unwrap_or_default()
        };
        let until = match field("until_s") {
            "" => None,
            text => Some(hours(line, "until_s", text)?),
        };
        events.push(RuleEvent {
            rule: field("rule").to_string(),
            kind: field("event").to_string(),
            at: hours(line, "time_s", field("time_s"))?,
            until,
        });
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_events_and_bad_rows_are_named() {
        let dir = std::env::temp_dir().join(format!("smtpsim-page-rules-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(rule_events(&dir).unwrap(), Vec::new(), "no file, no events");
        let path = dir.join(AUTOMATION_CSV);
        std::fs::write(
            &path,
            "time_s,rule,target_kind,target,event,until_s,deliveries\n\
             1800.000000,slow-down,provider,google,suspend,3600.000000,\n\
             3600.000000,slow-down,provider,google,released,,42\n",
        )
        .unwrap();
        let events = rule_events(&dir).unwrap();
        assert_eq!(
            events,
            [
                RuleEvent {
                    rule: "slow-down".into(),
                    kind: "suspend".into(),
                    at: 0.5,
                    until: Some(1.0)
                },
                RuleEvent {
                    rule: "slow-down".into(),
                    kind: "released".into(),
                    at: 1.0,
                    until: None
                }
            ]
        );
        std::fs::write(
            &path,
            "time_s,rule,target_kind,target,event,until_s,deliveries\n\
             soon,r,domain,d,suspend,,\n",
        )
        .unwrap();
        let err = rule_events(&dir).unwrap_err().to_string();
        assert!(err.contains("automation.csv: line 2, time_s"), "{err}");
        std::fs::write(&path, "time_s,rule\n1,r\n").unwrap();
        let err = rule_events(&dir).unwrap_err().to_string();
        assert!(
            err.ends_with("not smtpsim's automation.csv header"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
