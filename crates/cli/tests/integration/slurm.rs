//! The README's Slurm job array on a real one-node Slurm cluster: Debian's `slurm-wlm` and
//! `munge`, slurmctld and slurmd started on this machine with their configuration, state and
//! munge socket in a temporary folder, the README's script submitted with
//! `sbatch --array=1-4`, the shards merged, and the merge compared with an unsharded sweep
//! byte for byte. The daemons are stopped and the folder removed however the test ends.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::{smtpsim, without_provenance};

/// The line of README.md just before the array script.
const SCRIPT_INTRO: &str = "A Slurm job array, one shard per task, on a shared filesystem:";
/// The README's replication count, and the one this test runs (to stay fast).
const REPLICATIONS: (&str, &str) = ("--replications 200", "--replications 2");

/// The README's array script (the `sh` block after [`SCRIPT_INTRO`]), with fewer
/// replications.
fn readme_script() -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let after = &readme[readme
        .find(SCRIPT_INTRO)
        .expect("the README's Slurm section")..];
    let start = after.find("```sh\n").expect("its sh block") + "```sh\n".len();
    let script = &after[start..start + after[start..].find("```").unwrap()];
    assert!(script.starts_with("#!/bin/bash\n"), "{script}");
    assert!(script.contains(REPLICATIONS.0), "{script}");
    script.replace(REPLICATIONS.0, REPLICATIONS.1)
}

/// The arguments of the script's `smtpsim sweep` without the shard's own ones: the unsharded
/// sweep to compare with.
fn unsharded_args(script: &str) -> Vec<String> {
    let command: String = script
        .lines()
        .skip_while(|l| !l.starts_with("smtpsim sweep"))
        .map(|l| l.trim_end_matches('\\').trim())
        .collect::<Vec<_>>()
        .join(" ");
    let words: Vec<&str> = command.split_whitespace().collect();
    let mut args = Vec::new();
    let mut i = 1;
    while i < words.len() {
        match words[i] {
            "--shard" | "--out" | "--jobs" => i += 2,
            word => {
                args.push(word.trim_matches('"').to_string());
                i += 1;
            }
        }
    }
    args
}

/// A free TCP port on this machine.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The daemons of a one-node cluster, stopped (by the ids in their pid files) on drop.
struct Cluster {
    dir: tempfile::TempDir,
}

impl Cluster {
    fn conf(&self) -> PathBuf {
        self.dir.path().join("slurm.conf")
    }

    fn start() -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_owned();
        let d = d.as_path();
        for sub in ["state", "spool"] {
            std::fs::create_dir(d.join(sub)).unwrap();
        }
        let key: Vec<u8> = (0..1024u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        std::fs::write(d.join("munge.key"), key).unwrap();
        let cluster = Cluster { dir };
        run(Command::new("chmod").args(["600"]).arg(d.join("munge.key")));
        run(Command::new("/usr/sbin/munged")
            .arg("--force")
            .arg(format!("--key-file={}", d.join("munge.key").display()))
            .arg(format!("--socket={}", d.join("munge.socket").display()))
            .arg(format!("--pid-file={}", d.join("munged.pid").display()))
            .arg(format!("--log-file={}", d.join("munged.log").display()))
            .arg(format!("--seed-file={}", d.join("munged.seed").display())));
        let cpus = 4;
        let conf = format!(
            "ClusterName=smtpsim\nSlurmctldHost=localhost\nSlurmUser=root\nSlurmdUser=root\n\
             AuthType=auth/munge\nAuthInfo=socket={d}/munge.socket\nCredType=cred/munge\n\
             SlurmctldPort={}\nSlurmdPort={}\nStateSaveLocation={d}/state\n\
             SlurmdSpoolDir={d}/spool\nSlurmctldPidFile={d}/slurmctld.pid\n\
             SlurmdPidFile={d}/slurmd.pid\nSlurmctldLogFile={d}/slurmctld.log\n\
             SlurmdLogFile={d}/slurmd.log\nProctrackType=proctrack/linuxproc\n\
             TaskPlugin=task/none\nJobAcctGatherType=jobacct_gather/none\nMpiDefault=none\n\
             SchedulerType=sched/builtin\nSelectType=select/cons_tres\n\
             SelectTypeParameters=CR_CPU\nReturnToService=2\n\
             SlurmdParameters=config_overrides\n\
             NodeName=smtpsim-node NodeHostname=localhost NodeAddr=127.0.0.1 CPUs={cpus} \
             State=UNKNOWN\nPartitionName=test Nodes=smtpsim-node Default=YES \
             MaxTime=INFINITE State=UP\n",
            free_port(),
            free_port(),
            d = d.display()
        );
        std::fs::write(cluster.conf(), conf).unwrap();
        run(Command::new("/usr/sbin/slurmctld")
            .arg("-f")
            .arg(cluster.conf()));
        run(Command::new("/usr/sbin/slurmd")
            .arg("-f")
            .arg(cluster.conf())
            .args(["-N", "smtpsim-node"]));
        cluster.wait_for("the node to be idle", |c| {
            c.slurm("sinfo", &["-h", "-o", "%T"]).trim() == "idle"
        });
        cluster
    }

    /// Runs a Slurm client command against this cluster; its stdout.
    fn slurm(&self, program: &str, args: &[&str]) -> String {
        run(Command::new(program)
            .args(args)
            .env("SLURM_CONF", self.conf()))
    }

    fn wait_for(&self, what: &str, done: impl Fn(&Cluster) -> bool) {
        let start = Instant::now();
        while !done(self) {
            assert!(
                start.elapsed() < Duration::from_secs(180),
                "waited too long for {what}; slurmctld.log:\n{}\nslurmd.log:\n{}",
                self.log("slurmctld.log"),
                self.log("slurmd.log")
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for pid in ["slurmd.pid", "slurmctld.pid", "munged.pid"] {
            if let Ok(pid) = std::fs::read_to_string(self.dir.path().join(pid)) {
                let _ = Command::new("kill").arg(pid.trim()).status();
            }
        }
    }
}

/// Runs a command that must succeed; its stdout.
fn run(command: &mut Command) -> String {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e} (Debian packages slurm-wlm and munge)"));
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

#[test]
fn the_readme_array_script_runs_on_slurm_and_merges_into_the_unsharded_sweep() {
    let script = readme_script();
    let cluster = Cluster::start();
    let work = cluster.dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    std::os::unix::fs::symlink(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios"),
        work.join("scenarios"),
    )
    .unwrap();
    std::fs::write(work.join("retry-sweep.sbatch"), &script).unwrap();
    // The tasks find smtpsim on the PATH they are submitted with.
    let bin = Path::new(env!("CARGO_BIN_EXE_smtpsim")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let job = run(Command::new("sbatch")
        .args(["--parsable", "--array=1-4"])
        .arg(format!("--chdir={}", work.display()))
        .arg("retry-sweep.sbatch")
        .current_dir(&work)
        .env("SLURM_CONF", cluster.conf())
        .env("PATH", &path));
    let job = job.trim().to_string();
    cluster.wait_for("the array to finish", |c| {
        c.slurm("squeue", &["-h", "-j", &job]).trim().is_empty()
    });
    let shards: Vec<PathBuf> = (1..=4)
        .map(|i| work.join("shards").join(i.to_string()))
        .collect();
    for (i, shard) in shards.iter().enumerate() {
        let output = std::fs::read_to_string(work.join(format!("slurm-{job}_{}.out", i + 1)))
            .unwrap_or_default();
        assert!(
            shard.join("sweep.json").is_file(),
            "task {}: {output}",
            i + 1
        );
    }

    let merged = work.join("retry-sweep");
    let mut args: Vec<String> = vec!["merge".into()];
    args.extend(shards.iter().map(|s| s.display().to_string()));
    args.extend([
        "--no-report".into(),
        "--out".into(),
        merged.display().to_string(),
    ]);
    let (code, _, err) = smtpsim(&args);
    assert_eq!(code, 0, "{err}");

    // From the same folder as the tasks: the scenario's path is written into sweep.json.
    let whole = work.join("whole");
    let args = unsharded_args(&script);
    assert_eq!(args[0], "sweep", "{args:?}");
    assert!(args.contains(&"--no-report".to_string()), "{args:?}");
    run(Command::new(env!("CARGO_BIN_EXE_smtpsim"))
        .args(&args)
        .arg("--out")
        .arg(&whole)
        .current_dir(&work));
    // Everything but the provenance of sweep.json, which lists the shards' commands.
    for file in [
        "sweep.csv",
        "sweep_summary.csv",
        "sweep_diff.csv",
        "sweep_ranking.csv",
        "sweep_domains.csv",
        "sweep_domains_summary.csv",
        "sweep.json",
    ] {
        assert_eq!(
            without_provenance(file, &read(&whole, file)),
            without_provenance(file, &read(&merged, file)),
            "{file} differs"
        );
    }
}
