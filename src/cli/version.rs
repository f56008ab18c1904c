//! `kubectl vroute version`: the plugin's version and the server's it talks to.

use super::common::{KubeArgs, OutputArg};
use super::print;
use crate::cluster::Action;
use crate::error::Error;
use crate::exit::Exit;
use crate::render::{self, Format};
use clap::Args;
use serde::Serialize;

#[derive(Args, Debug)]
pub struct VersionArgs {
    /// Print only the plugin's version (no cluster needed).
    #[arg(long)]
    pub client: bool,
    /// Output format (json or yaml; table prints two lines).
    #[arg(short = 'o', long, value_enum, default_value_t = OutputArg::Table)]
    pub output: OutputArg,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Versions {
    /// `v0.1.0`: spelt as kubectl spells versions (the server's is `v1.35.4`), in the table and documents alike.
    client_version: String,
    server_version: Option<String>,
}

pub async fn run(kube: &KubeArgs, args: VersionArgs) -> Result<Exit, Error> {
    let server_version = if args.client {
        None
    } else {
        let cluster = kube.connect(false).await?;
        let info = cluster.client.apiserver_version().await.map_err(|e| {
            Action { verb: "get", resource: "the server version (/version)", namespace: None }.error(&cluster.server, e)
        })?;
        Some(info.git_version)
    };
    let v = Versions { client_version: format!("v{}", env!("CARGO_PKG_VERSION")), server_version };
    let text = match render::document(&v, Format::from(args.output)) {
        Some(doc) => doc?,
        None => {
            let mut s = format!("Client Version: {}\n", v.client_version);
            if let Some(server) = &v.server_version {
                s.push_str(&format!("Server Version: {server}\n"));
            }
            s
        }
    };
    print(&text)?;
    Ok(Exit::Ok)
}
