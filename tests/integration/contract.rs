//! The documented `-o json` contracts, byte for byte. Each case runs a command in one of the README's seeded
//! worlds and compares its stdout with a recorded document in `tests/golden/` (the test namespace written as
//! the README's, times, uids and resourceVersions as placeholders). A change to what a script reads fails here
//! and names the file; `VROUTE_BLESS=1` records the documents anew after a deliberate change (then review the
//! diff: a field may be added, never renamed or removed).

use crate::readme::scenario::Scenario;
use std::path::PathBuf;

/// `(golden file, scenario, command)`.
const CASES: [(&str, &str, &[&str]); 17] = [
    ("status-chain", "chain", &["status", "-n", "shop", "-o", "json"]),
    ("status-chain-b", "chain", &["status", "b", "-n", "shop", "-o", "json"]),
    ("status-chain-a-yaml", "chain", &["status", "a", "-n", "shop", "-o", "yaml"]),
    ("check-chain", "chain", &["check", "-n", "shop", "-o", "json"]),
    ("status-chain-broken", "chain-broken", &["status", "-n", "shop", "-o", "json"]),
    ("check-chain-broken", "chain-broken", &["check", "-n", "shop", "-o", "json"]),
    ("status-chain-v3", "chain-v3", &["status", "b", "-n", "shop", "-o", "json"]),
    ("status-traffic", "traffic", &["status", "-n", "shop", "-o", "json", "--prometheus-url", PROM]),
    ("status-rollouts", "rollouts", &["status", "-n", "prod", "-o", "json"]),
    ("check-rollouts", "rollouts", &["check", "-n", "prod", "-o", "json"]),
    ("check-offline", "offline", &["check", "-f", "deploy/", "-n", "shop", "-o", "json"]),
    ("check-offline-file", "offline", &["check", "-f", "deploy/chain.yaml", "-o", "yaml"]),
    ("set-weight", "chain", &["set-weight", "a", "v1=90", "v2=10", "-n", "shop", "--dry-run", "-o", "json"]),
    ("set-weight-diff", "chain", &["set-weight", "a", "v1=80", "v2=20", "-n", "shop", "--diff", "-o", "json"]),
    ("pin", "chain-v3", &["pin", "b", "-n", "shop", "--dry-run", "-o", "json"]),
    ("promote", "rollouts", &["promote", "reviews", "-n", "prod", "--dry-run", "-o", "json"]),
    ("abort-yaml", "rollouts", &["abort", "reviews", "-n", "prod", "--dry-run", "-o", "yaml"]),
];

const PROM: &str = "http://127.0.0.1:9090";

#[tokio::test]
async fn json_documents_are_exactly_as_recorded() {
    let bless = std::env::var_os("VROUTE_BLESS").is_some();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let runs = CASES.iter().enumerate().map(|(i, (name, scenario, args))| {
        let dir = dir.clone();
        async move {
            let world = Scenario::set_up(scenario, 100_000 + i).await;
            let (code, out) = world.run_stdout(args).await;
            let out = placeholders(&out);
            let file = dir.join(format!("{name}.{}", if args.contains(&"yaml") { "yaml" } else { "json" }));
            if bless {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&file, &out).unwrap();
                return None;
            }
            let recorded = std::fs::read_to_string(&file).unwrap_or_else(|e| format!("<{}: {e}>", file.display()));
            (recorded != out).then(|| {
                let diff = similar::TextDiff::from_lines(&recorded, &out).unified_diff().to_string();
                format!("{} (`kubectl vroute {}`, exit {code}):\n{diff}", file.display(), args.join(" "))
            })
        }
    });
    let failures: Vec<String> = futures::future::join_all(runs).await.into_iter().flatten().collect();
    assert!(failures.is_empty(), "{} document(s) changed:\n\n{}", failures.len(), failures.join("\n\n"));
}

/// Values that differ on every run (creation times and edit times, uids, resourceVersions) as placeholders.
fn placeholders(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let line = mask_times(line);
        let masked = ["\"uid\": \"", "uid: ", "\"resourceVersion\": \"", "resourceVersion: "]
            .iter()
            .find_map(|key| line.find(key).map(|at| (at + key.len(), *key)));
        match masked {
            Some((start, key)) => {
                let quoted = key.ends_with('"');
                let end = if quoted { line[start..].find('"').map_or(line.len(), |e| start + e) } else { line.len() };
                out.push_str(&line[..start]);
                out.push_str("<masked>");
                out.push_str(&line[end..]);
            }
            None => out.push_str(&line),
        }
        out.push('\n');
    }
    out
}

/// Every RFC 3339 UTC time (`2026-12-01T19:53:10Z`, with or without fractions) as `<time>`.
fn mask_times(line: &str) -> String {
    let bytes = line.as_bytes();
    let shape = b"dddd-dd-ddTdd:dd:dd";
    let mut out = String::new();
    let mut i = 0;
    while i < bytes.len() {
        let fits = bytes.len() - i >= shape.len()
            && shape.iter().zip(&bytes[i..]).all(|(s, b)| if *s == b'd' { b.is_ascii_digit() } else { s == b });
        if fits {
            let mut end = i + shape.len();
            if bytes.get(end) == Some(&b'.') {
                end += 1;
                while bytes.get(end).is_some_and(u8::is_ascii_digit) {
                    end += 1;
                }
            }
            if bytes.get(end) == Some(&b'Z') {
                out.push_str("<time>");
                i = end + 1;
                continue;
            }
        }
        let ch = line[i..].chars().next().unwrap();
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

#[test]
fn placeholders_mask_what_changes_between_runs() {
    let text = "  \"uid\": \"4a5f-11\",\n  resourceVersion: '123'\n\"time\": \"2026-12-01T19:53:10.123Z\", t2026";
    assert_eq!(
        placeholders(text),
        "  \"uid\": \"<masked>\",\n  resourceVersion: <masked>\n\"time\": \"<time>\", t2026\n"
    );
}
