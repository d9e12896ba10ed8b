//! The web page in headless Chromium (driven over WebDriver by `web/webdriver.rs`) against
//! in-process nodes whose API and page are served on 127.0.0.1. Screenshots go to
//! `<target dir>/web-screenshots/`.
//!
//! ```text
//! HTTP client -- node (page)                  forms_work_without_javascript
//! HTTP client -- node F (page) -- node A      managing_a_community_from_the_page
//! browser -- node A (page)                    create_post_and_read
//! browser -- node A (page) -- node B (API)    a_post_on_node_b_appears_live_on_node_a
//! browser -- node A (page) -- node B (page)   an_image_attached_on_one_node_is_shown_on_the_other
//! ```

mod browser;
mod double_submit;
mod forms;
mod images;
mod invite_link;
mod ledger;
mod limits;
mod market;
mod membership;
mod notifications;
mod phone;
mod search;
mod webdriver;

use crate::common::*;
use qun_node::dto::NodeEvent;
use qun_node::http::auth::Auth;
use qun_node::http::{self, AppState, Server};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use webdriver::Browser;

struct WebNode {
    node: TestNode,
    server: Server,
    auth: Arc<Auth>,
    url: String,
    http: Client,
}

impl WebNode {
    async fn start(seed: u8) -> Self {
        Self::start_with_keyfile(seed, None).await
    }

    /// With the keyfile the API checks before showing the backup phrase.
    async fn start_with_keyfile(seed: u8, keyfile: Option<std::path::PathBuf>) -> Self {
        let node = spawn(seed).await;
        let auth = Arc::new(Auth::new(format!("token-{seed}")));
        let server = http::serve(
            "127.0.0.1:0".parse().unwrap(),
            AppState {
                search: qun_node::search::spawn(node.handle().clone(), None).unwrap(),
                prefs: Arc::new(qun_node::http::prefs::Prefs::in_memory()),
                node: node.handle().clone(),
                auth: auth.clone(),
                keyfile,
            },
        )
        .await
        .unwrap();
        let url = format!("http://{}", server.addr);
        WebNode {
            node,
            server,
            auth,
            url,
            http: Client::new(),
        }
    }

    fn login_url(&self) -> String {
        format!(
            "{}/login?code={}",
            self.url,
            self.auth.login_code().unwrap()
        )
    }

    async fn api(&self, method: Method, path: &str, body: Value) -> Value {
        let resp = self
            .http
            .request(method.clone(), format!("{}{path}", self.url))
            .bearer_auth(self.auth.token())
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{method} {path}: {status} {v}");
        v
    }

    /// A community made through the API, with the default policy; its id.
    async fn create(&self, name: &str) -> String {
        self.api(Method::POST, "/api/v1/communities", json!({ "name": name }))
            .await["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// An invite code for community `c`, made through the API once the node listens (the
    /// code carries its addresses).
    async fn invite_code(&mut self, c: &str) -> String {
        listening(&mut self.node).await;
        self.api(
            Method::POST,
            &format!("/api/v1/communities/{c}/invite"),
            json!({}),
        )
        .await["code"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Join community `c` with an invite code from `inviter`, both through the API; returns
    /// once this node is a member.
    async fn join_through(&mut self, inviter: &mut WebNode, c: &str) {
        let code = inviter.invite_code(c).await;
        self.api(Method::POST, "/api/v1/join", json!({ "code": code }))
            .await;
        wait_for(
            &mut self.node.events,
            "admitted",
            |e| matches!(e, NodeEvent::Membership { status, .. } if status.is_member()),
        )
        .await;
    }

    async fn stop(self) {
        self.server.task.abort();
        self.node.handle().shutdown().await.unwrap();
    }
}

/// The community id in a page URL `…/c/<id>…`.
fn community_of(url: &str) -> String {
    url.split("/c/")
        .nth(1)
        .and_then(|r| r.split(['/', '?', '#']).next())
        .unwrap_or_else(|| panic!("no community in {url}"))
        .to_string()
}

/// A session without a browser: the login link's cookie, forms posted from the page's origin,
/// redirects not followed.
struct Session {
    http: Client,
    url: String,
    cookie: String,
}

impl Session {
    async fn login(n: &WebNode) -> Self {
        let http = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let login = http.get(n.login_url()).send().await.unwrap();
        let cookie = login.headers()[reqwest::header::SET_COOKIE]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        Session {
            http,
            url: n.url.clone(),
            cookie,
        }
    }

    fn form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.url))
            .header(reqwest::header::COOKIE, &self.cookie)
            .header(reqwest::header::ORIGIN, &self.url)
            .form(fields)
    }

    fn page(&self, path: String) -> impl Future<Output = reqwest::Result<reqwest::Response>> {
        self.http
            .get(format!("{}{path}", self.url))
            .header(reqwest::header::COOKIE, &self.cookie)
            .send()
    }

    /// POST a form; expect a redirect and return where to.
    async fn submit(&self, path: &str, fields: &[(&str, &str)]) -> String {
        let r = self.form(path, fields).send().await.unwrap();
        let status = r.status();
        let location = r
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .map(String::from);
        match location {
            Some(l) if status == StatusCode::SEE_OTHER => l,
            _ => panic!("{path}: {status} {}", r.text().await.unwrap_or_default()),
        }
    }

    async fn html(&self, path: String) -> String {
        let r = self.page(path.clone()).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        r.text().await.unwrap()
    }
}
