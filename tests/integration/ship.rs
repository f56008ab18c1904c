//! What a new user touches first: version, shell completion through kubectl, and the deploy manifests.

use crate::support::{env, scenarios};
use std::process::Command;

#[tokio::test]
async fn version_prints_the_plugin_and_the_server() {
    let out = env().vroute().args(["version"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains(&format!("Client Version: v{}", env!("CARGO_PKG_VERSION"))), "{text}");
    assert!(text.contains("Server Version: v1.35."), "{text}");
    let json: serde_json::Value =
        serde_json::from_slice(&env().vroute().args(["version", "-o", "json"]).output().unwrap().stdout).unwrap();
    assert_eq!(json["clientVersion"], format!("v{}", env!("CARGO_PKG_VERSION")), "as the table spells it");
}

#[tokio::test]
async fn kubectl_completes_commands_flags_and_service_names_through_the_plugin() {
    let env = env();
    let ns = env.namespace("complete").await;
    env.create_yaml(&ns, &scenarios::service_and_subsets("reviews", &["v1", "v2"])).await;
    env.create_yaml(&ns, &scenarios::service_and_subsets("ratings", &["v1"])).await;
    // kubectl >= 1.26 asks `kubectl_complete-vroute` (found on PATH) to complete `kubectl vroute ...`; the
    // shell scripts kubectl generates ask kubectl through `kubectl __complete ...`.
    let complete = |args: &[&str]| {
        let out = env.complete().args(args).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let subcommands = complete(&["st"]);
    assert!(subcommands.lines().any(|l| l.starts_with("status")), "{subcommands}");
    let flags = complete(&["status", "--prom"]);
    assert!(flags.contains("--prometheus-url"), "{flags}");
    let names = complete(&["status", "-n", &ns, "r"]);
    assert!(names.contains("reviews") && names.contains("ratings"), "{names}");
    assert!(names.trim_end().ends_with(":4"), "no file completion: {names}");
    // kubectl's other flag forms name the namespace too.
    for form in [format!("--namespace={ns}"), format!("-n{ns}"), format!("-n={ns}")] {
        let names = complete(&["status", &form, "rev"]);
        assert!(names.lines().next() == Some("reviews"), "{form}: {names}");
    }
    // A value typed attached to its flag completes in that form.
    let values = complete(&["status", "--output=y"]);
    assert!(values.lines().next() == Some("--output=yaml"), "{values}");
    let namespaces = complete(&["status", &format!("-n{}", &ns[..ns.len() - 1])]);
    assert!(namespaces.lines().any(|l| l == format!("-n{ns}")), "{namespaces}");
}

#[test]
fn completion_scripts_are_generated_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = Command::new(env!("CARGO_BIN_EXE_kubectl-vroute")).args(["completion", shell]).output().unwrap();
        assert!(out.status.success() && out.stdout.len() > 500, "{shell}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-vroute")).args(["completion", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4), "unknown shell is a usage error");
}

#[tokio::test]
async fn the_analysis_service_manifests_pass_server_side_validation() {
    let env = env();
    let rendered =
        env.kubectl().args(["kustomize", concat!(env!("CARGO_MANIFEST_DIR"), "/plugin-manifest")]).output().unwrap();
    assert!(rendered.status.success(), "{}", String::from_utf8_lossy(&rendered.stderr));
    let yaml = String::from_utf8(rendered.stdout).unwrap();
    for kind in [
        "Deployment",
        "Service",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "ConfigMap",
        "Namespace",
    ] {
        assert!(yaml.contains(&format!("kind: {kind}\n")), "{kind} missing");
    }
    // Server-side dry run: the API server validates every object against its schema and admission, stores
    // nothing. Objects in a namespace can only be dry-run once it exists, so it is created for real first.
    env.kubectl().args(["create", "namespace", "vroute-system"]).output().unwrap();
    let mut apply = env
        .kubectl()
        .args(["apply", "--dry-run=server", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    apply.stdin.take().unwrap().write_all(yaml.as_bytes()).unwrap();
    let out = apply.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let applied = String::from_utf8_lossy(&out.stdout);
    assert!(applied.contains("deployment.apps/vroute-analysis created (server dry run)"), "{applied}");
}

#[tokio::test]
async fn the_analysis_templates_and_example_rollout_are_accepted_by_the_real_crds() {
    let env = env();
    let ns = env.namespace("templates").await;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/rollouts");
    let mut kinds = Vec::new();
    for file in ["analysis-template.yaml", "cluster-analysis-template.yaml", "example-rollout.yaml"] {
        let text = std::fs::read_to_string(format!("{dir}/{file}")).unwrap();
        // The ClusterAnalysisTemplate is cluster-scoped: one per test run, so give it this run's name.
        let text = text.replace("name: vroute-judge-step\n", &format!("name: vroute-judge-step-{ns}\n"));
        for obj in env.create_yaml(&ns, &text).await {
            kinds.push(obj.types.unwrap().kind);
        }
    }
    assert_eq!(
        kinds,
        ["AnalysisTemplate", "ClusterAnalysisTemplate", "Service", "DestinationRule", "VirtualService", "Rollout"]
    );
    // The schema really checks: a web provider's timeout must be an integer.
    let broken = std::fs::read_to_string(format!("{dir}/analysis-template.yaml"))
        .unwrap()
        .replace("name: vroute-judge\n", "name: broken\n")
        .replace("timeoutSeconds: 10", "timeoutSeconds: ten");
    let out = env
        .kubectl()
        .args(["apply", "-n", &ns, "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = out;
    use std::io::Write;
    out.stdin.take().unwrap().write_all(broken.as_bytes()).unwrap();
    let out = out.wait_with_output().unwrap();
    assert!(!out.status.success(), "a non-integer timeout must be refused by the AnalysisTemplate schema");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("timeoutSeconds"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// krew's manifest rules (krew's own validator is not on the Go module proxy, so they are checked here): the
/// name matches the file, the version is semver with a `v`, platforms do not overlap, each sha256 is lowercase
/// hex and matches its archive, and the archive holds `bin` and every `files.from`.
fn check_krew_manifest(path: &std::path::Path, archives: Option<&std::path::Path>) {
    let text = std::fs::read_to_string(path).unwrap();
    let m: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    assert_eq!(m["apiVersion"], "krew.googlecontainertools.github.com/v1alpha2");
    assert_eq!(m["kind"], "Plugin");
    assert_eq!(m["metadata"]["name"].as_str(), path.file_stem().and_then(|s| s.to_str()), "name matches the file");
    let version = m["spec"]["version"].as_str().unwrap();
    let semver =
        version.strip_prefix('v').map(|v| v.split('.').all(|p| p.parse::<u64>().is_ok()) && v.split('.').count() == 3);
    assert_eq!(semver, Some(true), "version {version} is vMAJOR.MINOR.PATCH");
    assert_eq!(version, format!("v{}", env!("CARGO_PKG_VERSION")));
    for field in ["homepage", "shortDescription", "description", "caveats"] {
        assert!(m["spec"][field].as_str().is_some_and(|s| !s.trim().is_empty()), "{field}");
    }
    let platforms = m["spec"]["platforms"].as_array().unwrap();
    assert!(!platforms.is_empty());
    let mut selectors = std::collections::BTreeSet::new();
    for p in platforms {
        let labels = &p["selector"]["matchLabels"];
        assert!(
            selectors.insert((labels["os"].to_string(), labels["arch"].to_string())),
            "overlapping selector {labels}"
        );
        let sha = p["sha256"].as_str().unwrap();
        assert!(sha.len() == 64 && sha.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)), "sha256 {sha}");
        let uri = p["uri"].as_str().unwrap();
        assert!(uri.starts_with("https://") && uri.ends_with(".tar.gz") && uri.contains(version), "{uri}");
        assert_eq!(p["bin"], "kubectl-vroute");
        if let Some(dir) = archives {
            let archive = dir.join(uri.rsplit('/').next().unwrap());
            let sum = Command::new("sha256sum").arg(&archive).output().unwrap();
            assert_eq!(
                String::from_utf8_lossy(&sum.stdout).split_whitespace().next(),
                Some(sha),
                "sha256 of {archive:?}"
            );
            let listing =
                String::from_utf8(Command::new("tar").arg("tzf").arg(&archive).output().unwrap().stdout).unwrap();
            let mut wanted: Vec<&str> =
                p["files"].as_array().unwrap().iter().map(|f| f["from"].as_str().unwrap()).collect();
            wanted.push("kubectl-vroute");
            for file in wanted {
                assert!(listing.lines().any(|l| l == file), "{file} missing from {archive:?}: {listing}");
            }
        }
    }
}

#[test]
fn the_release_script_packages_the_plugin_and_renders_a_valid_krew_manifest() {
    let out = tempfile::tempdir().unwrap();
    let status = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/krew/release.sh"))
        .args(["--binary", env!("CARGO_BIN_EXE_kubectl-vroute"), "--out"])
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success());
    let manifest = out.path().join("vroute.yaml");
    check_krew_manifest(&manifest, Some(out.path()));
    // The release workflow's last job renders the manifest from the archives the platform jobs built.
    let built = std::fs::read_to_string(&manifest).unwrap();
    std::fs::remove_file(&manifest).unwrap();
    let status = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/krew/release.sh"))
        .args(["--no-build", "--out"])
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), built);
    // The committed manifest follows the same rules (its archives are the release's).
    check_krew_manifest(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/krew/vroute.yaml")), None);
}

#[test]
fn the_release_workflow_builds_every_platform_the_krew_template_lists() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let template = std::fs::read_to_string(root.join("krew/.krew.yaml")).unwrap();
    let listed: std::collections::BTreeSet<String> = template
        .lines()
        .filter_map(|l| l.split("{{ .TagName }}_").nth(1))
        .map(|rest| rest.split(".tar.gz").next().unwrap().to_string())
        .collect();
    let workflow = std::fs::read_to_string(root.join(".github/workflows/release.yml")).unwrap();
    let workflow: serde_json::Value = serde_saphyr::from_str(&workflow).unwrap();
    let built: std::collections::BTreeSet<String> = workflow["jobs"]["archive"]["strategy"]["matrix"]["include"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["platform"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed.len(), 4, "{listed:?}");
    assert_eq!(built, listed, "release.yml's matrix and krew/.krew.yaml's platforms differ");
}

/// The image cannot be built here (no Docker engine), so what can drift is checked: the image's user is the
/// one the Deployment runs as (runAsNonRoot needs a numeric USER), the port it exposes is the one the probes
/// use, and the binary the image runs is the one the build stage builds.
#[test]
fn the_dockerfile_agrees_with_the_deployment() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dockerfile = std::fs::read_to_string(root.join("Dockerfile")).unwrap();
    let deployment = std::fs::read_to_string(root.join("plugin-manifest/deployment.yaml")).unwrap();
    let deployment: serde_json::Value = serde_saphyr::from_str(&deployment).unwrap();
    let pod = &deployment["spec"]["template"]["spec"];
    let final_stage = dockerfile.rsplit("\nFROM ").next().unwrap();
    assert!(final_stage.starts_with("gcr.io/distroless/static"), "{final_stage}");
    let user = format!("USER {}:{}", pod["securityContext"]["runAsUser"], pod["securityContext"]["runAsGroup"]);
    assert!(final_stage.contains(&user), "{user} in\n{final_stage}");
    let port = &pod["containers"][0]["ports"][0]["containerPort"];
    assert!(final_stage.contains(&format!("EXPOSE {port}")), "{final_stage}");
    assert!(final_stage.contains("ENTRYPOINT [\"/vroute-analysis\"]"));
    assert!(dockerfile.contains("--bin vroute-analysis"));
    for arch in ["amd64", "arm64"] {
        assert!(dockerfile.contains(&format!("{arch})")), "TARGETARCH {arch} handled");
    }
}
