//! The full-text index (tantivy) of the posts this node holds: one document per visible post,
//! keyed by community, channel window and post, in `search/` in the data directory (or in
//! memory). A window is replaced whole when a change touches it; a community is replaced whole
//! when a change may have voided or renamed anything in it (see `super::indexer`).
//!
//! Queries are parsed leniently (any text a member types is a query, never an error): words
//! must all match (in the text or the author's name), `"…"` is a phrase, `-word` excludes.

use crate::error::{Error, Result};
use qun_crdt::{CommunityId, PostView};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, QueryParser, TermQuery};
use tantivy::schema::{
    Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TEXT, TantivyDocument, Value,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Term};

/// Memory for the index writer: tantivy's least (15 MB), on one indexing thread. Posts arrive
/// a few at a time; a bigger arena only makes a node's memory grow.
const WRITER_BYTES: usize = 15_000_000;
/// Most hits asked for at once.
pub const MAX_HITS: usize = 100;
/// Longest query read (characters).
pub const MAX_QUERY_CHARS: usize = 500;

/// One post found.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Hit {
    /// Community id.
    pub community: String,
    /// Channel id.
    pub channel: String,
    /// Post id.
    pub post: String,
    /// Author member id.
    pub author: String,
    /// Author's display name when indexed.
    pub author_name: String,
    /// A piece of the text around the words found.
    pub excerpt: String,
    /// Byte ranges of `excerpt` that matched.
    pub highlights: Vec<(usize, usize)>,
    /// The post's time (author's clock), Unix ms.
    pub created: u64,
    /// Relevance (higher first).
    pub score: f32,
}

#[derive(Clone, Copy)]
struct Fields {
    community: Field,
    window: Field,
    channel: Field,
    post: Field,
    author: Field,
    author_name: Field,
    text: Field,
    created: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let f = Fields {
        community: b.add_text_field("community", STRING | STORED),
        window: b.add_text_field("window", STRING),
        channel: b.add_text_field("channel", STORED),
        post: b.add_text_field("post", STORED),
        author: b.add_text_field("author", STRING | STORED),
        author_name: b.add_text_field("author_name", TEXT | STORED),
        text: b.add_text_field("text", TEXT | STORED),
        created: b.add_u64_field("created", INDEXED | STORED),
    };
    (b.build(), f)
}

fn err(e: impl std::fmt::Display) -> Error {
    Error::Search(e.to_string())
}

/// How many changes of each community the index reflects (kept next to it, so a restart
/// re-reads only communities that changed).
#[derive(Default, Serialize, Deserialize)]
struct Marks {
    version: u32,
    changes: BTreeMap<String, usize>,
}

/// The index.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    f: Fields,
    marks_file: Option<PathBuf>,
    marks: Mutex<Marks>,
}

/// `community|channel|window`.
fn window_key(c: &CommunityId, channel: &str, window: u32) -> String {
    format!("{c}|{channel}|{window}")
}

impl SearchIndex {
    /// In memory (tests; a node without a data directory).
    pub fn in_memory() -> Result<SearchIndex> {
        let (schema, f) = schema();
        Self::with(Index::create_in_ram(schema), f, None)
    }

    /// In `dir` (created when missing). An index that cannot be opened (damaged, or written
    /// by another version) is moved aside and rebuilt.
    pub fn open(dir: &Path) -> Result<SearchIndex> {
        match Self::try_open(dir) {
            Ok(i) => Ok(i),
            Err(e) => {
                let aside = dir.with_extension("damaged");
                tracing::warn!(
                    "search index at {} cannot be opened ({e}): moved to {}, rebuilding",
                    dir.display(),
                    aside.display()
                );
                let _ = std::fs::remove_dir_all(&aside);
                std::fs::rename(dir, &aside).map_err(|e| Error::io("search index", e))?;
                Self::try_open(dir)
            }
        }
    }

    fn try_open(dir: &Path) -> Result<SearchIndex> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("search index", e))?;
        let (schema, f) = schema();
        let mmap = tantivy::directory::MmapDirectory::open(dir).map_err(err)?;
        let index = Index::open_or_create(mmap, schema).map_err(err)?;
        Self::with(index, f, Some(dir.join("indexed.json")))
    }

    fn with(index: Index, f: Fields, marks_file: Option<PathBuf>) -> Result<SearchIndex> {
        let writer = index
            .writer_with_num_threads(1, WRITER_BYTES)
            .map_err(err)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(err)?;
        let marks = marks_file
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| serde_json::from_slice::<Marks>(&b).ok())
            .filter(|m| m.version == 1)
            .unwrap_or_default();
        Ok(SearchIndex {
            index,
            reader,
            writer: Mutex::new(writer),
            f,
            marks_file,
            marks: Mutex::new(marks),
        })
    }

    fn writer(&self) -> Result<std::sync::MutexGuard<'_, IndexWriter>> {
        self.writer
            .lock()
            .map_err(|_| Error::Search("writer lock poisoned".into()))
    }

    fn add(&self, w: &IndexWriter, c: &CommunityId, p: &PostView, name: &str) -> Result<()> {
        if p.deleted || p.hidden.is_some() {
            return Ok(());
        }
        let f = self.f;
        let mut d = TantivyDocument::default();
        d.add_text(f.community, c.to_string());
        d.add_text(f.window, window_key(c, p.id.channel.as_str(), p.id.window));
        d.add_text(f.channel, p.id.channel.as_str());
        d.add_text(f.post, p.id.to_string());
        d.add_text(f.author, p.author.to_string());
        d.add_text(f.author_name, name);
        d.add_text(f.text, &p.text);
        d.add_u64(f.created, p.created.as_millis());
        w.add_document(d).map_err(err)?;
        Ok(())
    }

    /// Replace one window's posts (`posts`: all visible posts of that window now).
    pub fn put_window(
        &self,
        c: &CommunityId,
        channel: &str,
        window: u32,
        posts: &[PostView],
        names: &BTreeMap<String, String>,
    ) -> Result<()> {
        let w = self.writer()?;
        w.delete_term(Term::from_field_text(
            self.f.window,
            &window_key(c, channel, window),
        ));
        for p in posts {
            let name = names.get(&p.author.to_string()).map_or("", String::as_str);
            self.add(&w, c, p, name)?;
        }
        Ok(())
    }

    /// Replace a whole community's posts.
    pub fn put_community(
        &self,
        c: &CommunityId,
        posts: &[PostView],
        names: &BTreeMap<String, String>,
    ) -> Result<()> {
        let w = self.writer()?;
        w.delete_term(Term::from_field_text(self.f.community, &c.to_string()));
        for p in posts {
            let name = names.get(&p.author.to_string()).map_or("", String::as_str);
            self.add(&w, c, p, name)?;
        }
        Ok(())
    }

    /// How many changes of `c` the index reflects (as last [`SearchIndex::commit`]ted).
    pub fn indexed_changes(&self, c: &CommunityId) -> Option<usize> {
        self.marks.lock().ok()?.changes.get(&c.to_string()).copied()
    }

    /// Make what was put searchable, and durable; `marks`: communities now reflected in full.
    pub fn commit(&self, marks: &[(CommunityId, usize)]) -> Result<()> {
        self.writer()?.commit().map_err(err)?;
        self.reader.reload().map_err(err)?;
        if let Ok(mut m) = self.marks.lock() {
            m.version = 1;
            for (c, n) in marks {
                m.changes.insert(c.to_string(), *n);
            }
            if let Some(p) = &self.marks_file {
                let tmp = p.with_extension("json.tmp");
                let ok = serde_json::to_vec(&*m)
                    .map_err(std::io::Error::other)
                    .and_then(|b| std::fs::write(&tmp, b))
                    .and_then(|()| std::fs::rename(&tmp, p));
                if let Err(e) = ok {
                    tracing::warn!("search index marks: {e}");
                }
            }
        }
        Ok(())
    }

    /// Posts matching `q` (in `community` only, when given), best first.
    pub fn query(&self, q: &str, community: Option<&str>, limit: usize) -> Result<Vec<Hit>> {
        let q: String = q.chars().take(MAX_QUERY_CHARS).collect();
        if q.trim().is_empty() {
            return Ok(Vec::new());
        }
        let f = self.f;
        let mut parser = QueryParser::for_index(&self.index, vec![f.text, f.author_name]);
        parser.set_conjunction_by_default();
        let (parsed, _) = parser.parse_query_lenient(&q);
        let query: Box<dyn Query> = match community {
            Some(c) => Box::new(BooleanQuery::new(vec![
                (Occur::Must, parsed),
                (
                    Occur::Must,
                    Box::new(TermQuery::new(
                        Term::from_field_text(f.community, c),
                        IndexRecordOption::Basic,
                    )),
                ),
            ])),
            None => parsed,
        };
        let searcher = self.reader.searcher();
        let top = searcher
            .search(
                &*query,
                &TopDocs::with_limit(limit.clamp(1, MAX_HITS)).order_by_score(),
            )
            .map_err(err)?;
        let mut snippets =
            tantivy::snippet::SnippetGenerator::create(&searcher, &*query, f.text).map_err(err)?;
        snippets.set_max_num_chars(200);
        let mut hits = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let d: TantivyDocument = searcher.doc(addr).map_err(err)?;
            let text = |field: Field| {
                d.get_first(field)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            let snip = snippets.snippet_from_doc(&d);
            let (excerpt, highlights) = if snip.fragment().is_empty() {
                (text(f.text).chars().take(200).collect(), Vec::new())
            } else {
                (
                    snip.fragment().to_string(),
                    snip.highlighted()
                        .iter()
                        .map(|r| (r.start, r.end))
                        .collect(),
                )
            };
            hits.push(Hit {
                community: text(f.community),
                channel: text(f.channel),
                post: text(f.post),
                author: text(f.author),
                author_name: text(f.author_name),
                excerpt,
                highlights,
                created: d.get_first(f.created).and_then(|v| v.as_u64()).unwrap_or(0),
                score,
            });
        }
        Ok(hits)
    }

    /// Posts in the index.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Whether the index holds no post.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qun_identity::Timestamp;

    fn post(key: &str, text: &str) -> PostView {
        let k = qun_crdt::test_utils::key(7);
        PostView {
            id: format!("general/3/{key}").parse().unwrap(),
            author: qun_identity::MemberId(k.public()),
            device: qun_identity::DeviceId(k.public()),
            text: text.into(),
            created: Timestamp::from_millis(1_000),
            edited: None,
            reply_to: None,
            attachments: Vec::new(),
            deleted: false,
            hidden: None,
            reactions: Default::default(),
            replies: 0,
            pinned: false,
        }
    }

    #[test]
    fn kept_across_a_restart_and_replaced_by_window() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("search");
        let c = CommunityId(qun_identity::ContentId::of(b"a community"));
        {
            let idx = SearchIndex::open(&path).unwrap();
            let mut gone = post("b", "old tomato");
            gone.deleted = true;
            idx.put_window(
                &c,
                "general",
                3,
                &[post("a", "Tomato seeds"), gone],
                &BTreeMap::new(),
            )
            .unwrap();
            idx.commit(&[(c, 7)]).unwrap();
            assert_eq!(
                idx.query("tomato", None, 10).unwrap().len(),
                1,
                "deleted posts are not indexed"
            );
        }
        let idx = SearchIndex::open(&path).unwrap();
        assert_eq!(idx.indexed_changes(&c), Some(7));
        let hits = idx.query("seeds", Some(&c.to_string()), 10).unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].post, "general/3/a");
        assert!(idx.query("seeds", Some("another"), 10).unwrap().is_empty());
        // The window replaced: the old post is gone.
        idx.put_window(&c, "general", 3, &[post("c", "Basil")], &BTreeMap::new())
            .unwrap();
        idx.commit(&[]).unwrap();
        assert!(idx.query("seeds", None, 10).unwrap().is_empty());
        assert!(idx.query("", None, 10).unwrap().is_empty());
        assert!(idx.query("\"((", None, 10).is_ok());
    }

    #[test]
    fn a_damaged_index_is_set_aside_and_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("search");
        std::fs::create_dir_all(&path).unwrap();
        std::fs::write(path.join("meta.json"), b"{ not json").unwrap();
        let idx = SearchIndex::open(&path).unwrap();
        assert!(idx.is_empty());
        assert!(dir.path().join("search.damaged").exists());
    }
}
