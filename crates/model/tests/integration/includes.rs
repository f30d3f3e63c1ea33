//! `include = [...]`: scenarios built from several files, overrides, and errors that name
//! the file that wrote the value.

use std::path::{Path, PathBuf};

use smtpsim_model::scenario::Scenario;

/// A fresh folder for one test's files.
fn folder(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("smtpsim-includes-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A whole scenario sending to `gmail.com`, with `extra` lines at its end.
fn top(include: &str, extra: &str) -> String {
    format!(
        "include = [{include}]\n\
         [simulation]\nname = \"inc\"\nduration = \"1m\"\n\
         [[senders]]\nname = \"app\"\ndomain = \"app.example\"\n\
         arrivals = {{ process = \"constant\", rate = \"1/s\" }}\n\
         to = [{{ domain = \"gmail.com\" }}]\n\
         [relay]\nretry = {{ policy = \"postfix\" }}\n{extra}"
    )
}

#[test]
fn the_bundled_providers_are_found_by_name_and_overridden_value_by_value() {
    let dir = folder("bundled");
    let extra = "[[domains]]\nname = \"gmail.com\"\n\
                 behaviour.rate_limits.messages = { rate = \"1/min\", burst = 50 }\n";
    let path = write(&dir, "s.toml", &top("\"providers.toml\"", extra));
    let s = Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let gmail = s.domain("gmail.com").unwrap();
    let messages = gmail.behaviour.rate_limits.messages.as_ref().unwrap();
    assert_eq!((messages.rate.per_second, messages.burst), (1.0 / 60.0, 50));
    // The table merged: the reply not written here is the included one.
    assert!(messages.reply.as_deref().unwrap().starts_with("421 4.7.28"));
    // Values not overridden stay: the MX hosts and the other limits.
    assert_eq!(gmail.mx.len(), 3);
    assert!(gmail.behaviour.rate_limits.connections.is_some());
    // The other providers come along, in the included file's order.
    let names: Vec<&str> = s.domains.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "gmail.com",
            "googlemail.com",
            "yahoo.com",
            "outlook.com",
            "hotmail.com"
        ]
    );
    assert!(
        s.domain("outlook.com")
            .unwrap()
            .behaviour
            .reputation
            .is_some()
    );
}

#[test]
fn the_bundled_providers_bring_their_provider_shaping_which_a_scenario_overrides() {
    let dir = folder("provider-shaping");
    let extra = "connection_reuse = true\n\
                 [[relay.providers]]\nname = \"google\"\nconnection_limit = 2\n";
    let path = write(&dir, "s.toml", &top("\"providers.toml\"", extra));
    let s = Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let shaping: Vec<(&str, Option<u32>, Option<u32>)> = s
        .relay
        .providers
        .iter()
        .map(|p| {
            let limits = p.shaping();
            (
                p.name.as_str(),
                limits.connection_limit,
                limits.max_deliveries_per_connection,
            )
        })
        .collect();
    assert_eq!(
        shaping,
        [
            ("google", Some(2), Some(50)),
            ("yahoo", None, Some(20)),
            ("outlook", Some(5), Some(50)),
        ]
    );
    // Every bundled domain with MX hosts falls in one provider.
    let google = &s.relay.providers[0];
    let patterns: Vec<_> = google
        .mx
        .iter()
        .map(|m| smtpsim_model::scenario::HostPattern::parse(m).unwrap())
        .collect();
    for name in ["gmail.com", "googlemail.com"] {
        let host = &s.domain(name).unwrap().mx[0].host;
        assert!(patterns.iter().any(|p| p.matches(host)), "{host}");
    }
}

#[test]
fn a_file_beside_the_scenario_wins_and_includes_nest() {
    let dir = folder("nested");
    write(
        &dir,
        "base.toml",
        "[[domains]]\nname = \"gmail.com\"\nmx = [{ host = \"mx.base\" }]\n\
         behaviour.temp_failures = 0.25\n",
    );
    write(
        &dir,
        "providers.toml",
        "include = [\"base.toml\"]\n[[domains]]\nname = \"gmail.com\"\n\
         behaviour.latency = \"1s\"\n",
    );
    let path = write(&dir, "s.toml", &top("\"providers.toml\"", ""));
    let s = Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let gmail = s.domain("gmail.com").unwrap();
    assert_eq!(gmail.mx[0].host, "mx.base");
    assert_eq!(gmail.behaviour.temp_failures.0, 0.25);
    assert_eq!(gmail.behaviour.latency.mean(), 1e6);
    assert_eq!(s.domains.len(), 1);
}

#[test]
fn an_error_in_an_included_file_names_that_file_line_and_field() {
    let dir = folder("errors");
    let part = write(
        &dir,
        "part.toml",
        "[[domains]]\nname = \"gmail.com\"\nmx = [{ host = \"mx.g\" }]\n\
         behaviour.temp_failures = 2\n",
    );
    let path = write(&dir, "s.toml", &top("\"part.toml\"", ""));
    let e = Scenario::load(&path).unwrap_err();
    assert_eq!(e.file, part.display().to_string());
    assert_eq!((e.line, e.column), (Some(4), Some(27)), "{e}");
    assert_eq!(e.field, "domains[0].behaviour.temp_failures");
    assert!(e.to_string().ends_with("part.toml:4:27: domains[0].behaviour.temp_failures: a probability must be between 0 and 1, not 2"), "{e}");

    // A value the including file overrides is its own: the error points there.
    let extra = "[[domains]]\nname = \"gmail.com\"\nbehaviour.temp_failures = 3\n";
    let path = write(&dir, "s2.toml", &top("\"part.toml\"", extra));
    let e = Scenario::load(&path).unwrap_err();
    assert_eq!(e.file, path.display().to_string(), "{e}");
    assert_eq!(e.line, Some(14), "{e}");

    // An unknown field, found while reading the merged scenario.
    write(
        &dir,
        "typo.toml",
        "[[domains]]\nname = \"x.example\"\n\n[[domains]]\nname = \"gmail.com\"\nlatncy = 1\n",
    );
    let path = write(&dir, "s3.toml", &top("\"typo.toml\"", ""));
    let e = Scenario::load(&path).unwrap_err();
    assert!(e.file.ends_with("typo.toml"), "{e}");
    assert_eq!(e.line, Some(6), "{e}");
    assert!(e.message.contains("unknown field `latncy`"), "{e}");

    // A syntax error.
    write(
        &dir,
        "broken.toml",
        "[[domains]]\nname = \"gmail.com\nx = 1\n",
    );
    let path = write(&dir, "s4.toml", &top("\"broken.toml\"", ""));
    let e = Scenario::load(&path).unwrap_err();
    assert!(e.file.ends_with("broken.toml"), "{e}");
    assert_eq!(e.line, Some(2), "{e}");
}

#[test]
fn missing_files_bad_lists_and_cycles_are_errors() {
    let dir = folder("cycles");
    let path = write(&dir, "s.toml", &top("\"nowhere.toml\"", ""));
    let e = Scenario::load(&path).unwrap_err();
    assert_eq!(e.field, "include[0]");
    assert_eq!((e.line, e.column), (Some(1), Some(12)), "{e}");
    assert!(e.message.starts_with("cannot read "), "{e}");

    let path = write(&dir, "s2.toml", &top("3", ""));
    let e = Scenario::load(&path).unwrap_err();
    assert_eq!(e.to_string().split(": ").nth(1), Some("include[0]"), "{e}");

    write(&dir, "a.toml", "include = [\"b.toml\"]\n");
    write(&dir, "b.toml", "include = [\"a.toml\"]\n");
    let path = write(&dir, "s3.toml", &top("\"a.toml\"", ""));
    let e = Scenario::load(&path).unwrap_err();
    assert!(e.file.ends_with("b.toml"), "{e}");
    assert!(e.message.starts_with("include cycle: "), "{e}");
    assert!(
        e.message.contains("a.toml includes") && e.message.ends_with("a.toml"),
        "{e}"
    );

    // A file that includes itself.
    let path = write(&dir, "self.toml", &top("\"self.toml\"", ""));
    let e = Scenario::load(&path).unwrap_err();
    assert!(e.message.starts_with("include cycle: "), "{e}");
}
