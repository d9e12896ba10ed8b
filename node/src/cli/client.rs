//! A small HTTP client for the local API.

use super::output::{CliError, ExitCode};
use crate::config::{ApiInfo, DataDir};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Talks to the node of a data directory.
pub struct Client {
    info: ApiInfo,
    http: reqwest::Client,
    rt: tokio::runtime::Runtime,
}

#[derive(serde::Deserialize)]
struct ApiErr {
    error: String,
    hint: String,
}

impl Client {
    /// Connect to the node running in `dir`.
    pub fn new(dir: &DataDir) -> Result<Self, CliError> {
        let info = ApiInfo::load(&dir.api_info()).map_err(|_| {
            CliError::new(
                ExitCode::NotRunning,
                format!("no node is running in {}", dir.root().display()),
                "start it with `qun up` (in another terminal or as a service)",
            )
        })?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CliError::new(ExitCode::Error, e.to_string(), "check system resources"))?;
        Ok(Client {
            info,
            http: reqwest::Client::new(),
            rt,
        })
    }

    /// The API base URL.
    pub fn url(&self) -> &str {
        &self.info.url
    }

    fn call<T: DeserializeOwned>(&self, req: reqwest::RequestBuilder) -> Result<T, CliError> {
        let req = req.bearer_auth(&self.info.token);
        self.rt.block_on(async {
            let resp = req.send().await.map_err(|e| {
                CliError::new(
                    ExitCode::NotRunning,
                    format!("cannot reach the node at {}: {e}", self.info.url),
                    "is `qun up` still running? (a stale api.json is left behind after a crash)",
                )
            })?;
            let status = resp.status();
            let bytes = resp
                .bytes()
                .await
                .map_err(|e| CliError::new(ExitCode::Error, e.to_string(), "try again"))?;
            if status.is_success() {
                serde_json::from_slice(&bytes).map_err(|e| {
                    CliError::new(
                        ExitCode::Error,
                        format!("bad answer from the node: {e}"),
                        "is the node the same version as this qun?",
                    )
                })
            } else {
                let (message, hint) = match serde_json::from_slice::<ApiErr>(&bytes) {
                    Ok(e) => (e.error, e.hint),
                    Err(_) => (format!("HTTP {status}"), "see the node's log".to_string()),
                };
                let code = match status.as_u16() {
                    404 => ExitCode::NotFound,
                    400 | 401 | 403 | 413 => ExitCode::Refused,
                    _ => ExitCode::Error,
                };
                Err(CliError::new(code, message, hint))
            }
        })
    }

    /// GET a path.
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, CliError> {
        self.call(self.http.get(format!("{}{path}", self.info.url)))
    }

    /// POST JSON to a path.
    pub fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, CliError> {
        self.call(
            self.http
                .post(format!("{}{path}", self.info.url))
                .json(body),
        )
    }
}
