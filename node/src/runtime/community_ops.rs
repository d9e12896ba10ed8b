//! Operations on one community, run on the driver's task: edits (acknowledged once stored),
//! endorsements, and the reads the API and the page show (posts, threads, members, profiles,
//! follows, endorsements, the page's [`CommunityView`] snapshot).

use super::driver::Driver;
use crate::dto::{
    CommunityInfo, CommunityView, Documents, EditDone, Endorse, EndorsementQuery, EndorsementView,
    Follows, MemberDetail, MemberStatus, PostQuery,
};
use crate::error::{Error, Result};
use qun_crdt::{
    Action, ChannelView, CommunityId, CommunityReader, Edit, MemberView, Perm, PostId, PostView,
    Profile,
};
use qun_identity::{Endorsement, MemberId, Signed, Timestamp, Topic, Weight};
use std::collections::{BTreeMap, BTreeSet};

impl Driver {
    /// A community this node holds, or `NotFound`.
    pub(super) fn reader(&mut self, c: &CommunityId) -> Result<CommunityReader<'_>> {
        self.repl
            .community(c)
            .ok_or_else(|| Error::NotFound(format!("community {c}")))
    }

    /// Make an edit in a community; `Ok` only once it is stored.
    pub(super) fn edit(&mut self, community: &CommunityId, edit: Edit) -> Result<EditDone> {
        self.writable()?;
        let t = self.now();
        let lc = self.repl.edit(t, community, edit)?;
        self.persisted()?;
        Ok(EditDone {
            hash: lc.accepted.hash.to_string(),
            post: lc.post.map(|p| p.to_string()),
        })
    }

    /// [`Driver::edit`] made at most once per `key`: the same key again answers the first
    /// result (see `super::recent_edits`).
    pub(super) fn edit_once(
        &mut self,
        community: &CommunityId,
        key: String,
        edit: Edit,
    ) -> Result<EditDone> {
        if key.is_empty() || key.len() > super::recent_edits::MAX_KEY_LEN {
            return Err(Error::Invalid {
                reason: format!(
                    "an idempotency key of {} bytes (1 to {} allowed)",
                    key.len(),
                    super::recent_edits::MAX_KEY_LEN
                ),
                hint: "send a random key of 16 to 64 characters, the same one for a retry",
            });
        }
        let fp = super::recent_edits::fingerprint(&edit);
        if let Some(done) = self.recent_edits.get(community, &key, &fp) {
            return Ok(done.clone());
        }
        let done = self.edit(community, edit)?;
        self.recent_edits.insert(*community, key, fp, done.clone());
        Ok(done)
    }

    /// Endorse a member in a community (signed by the root key).
    pub(super) fn endorse(&mut self, community: &CommunityId, e: Endorse) -> Result<EditDone> {
        let root = self.root()?.clone();
        let mut endorsement = Endorsement {
            from: root.member_id(),
            to: e.member,
            topic: Topic::new(&e.topic)?,
            scope: qun_identity::Scope::Community(community.0),
            weight: Weight::from_f64(e.weight)?,
            created: self.now(),
            expires: None,
            note: e.note,
        };
        // The later endorsement in a slot wins (weight 0 revokes): one made in the same
        // millisecond as the previous would be ordered by content id, so make it later.
        let key = endorsement.key();
        let previous = self.repl.community(community).and_then(|mut c| {
            c.state()
                .endorsements
                .latest()
                .filter(|p| p.value().key() == key)
                .map(|p| p.value().created.as_millis())
                .max()
        });
        if let Some(p) = previous {
            endorsement.created =
                Timestamp::from_millis(endorsement.created.as_millis().max(p + 1));
        }
        let bytes = Signed::sign(&root, endorsement)?.to_bytes();
        self.edit(
            community,
            Edit::Govern(Action::Endorse { endorsement: bytes }),
        )
    }

    /// Posts of a channel, newest first (only by members this member follows, if asked).
    pub(super) fn posts(&mut self, community: &CommunityId, q: PostQuery) -> Result<Vec<PostView>> {
        let me = self.member;
        let mut comm = self.reader(community)?;
        if !q.following {
            return Ok(comm.posts(&q.channel, q.limit, q.before)?);
        }
        let follows: BTreeSet<MemberId> = comm.follows(&me)?.into_iter().collect();
        let mut posts = comm.posts(&q.channel, usize::MAX, q.before)?;
        posts.retain(|p| follows.contains(&p.author));
        posts.truncate(q.limit);
        Ok(posts)
    }

    /// A post and its replies.
    pub(super) fn thread(
        &mut self,
        community: &CommunityId,
        post: &PostId,
    ) -> Result<Vec<PostView>> {
        Ok(self.reader(community)?.thread(post)?)
    }

    /// Members and roles.
    pub(super) fn members(&mut self, community: &CommunityId) -> Result<Vec<MemberView>> {
        Ok(self.reader(community)?.members()?)
    }

    /// A community's channels.
    pub(super) fn channels(&mut self, community: &CommunityId) -> Result<Vec<ChannelView>> {
        Ok(self.reader(community)?.channels())
    }

    /// A member's profile.
    pub(super) fn profile(
        &mut self,
        community: &CommunityId,
        m: &MemberId,
    ) -> Result<Option<Profile>> {
        Ok(self.reader(community)?.profile(m)?)
    }

    /// Whom `m` follows.
    pub(super) fn follows(&mut self, community: &CommunityId, m: MemberId) -> Result<Follows> {
        let follows = self.reader(community)?.follows(&m)?;
        Ok(Follows {
            member: m.to_string(),
            follows: follows.iter().map(|f| f.to_string()).collect(),
        })
    }

    /// One member as their profile page shows them.
    pub(super) fn member_detail(
        &mut self,
        community: &CommunityId,
        m: MemberId,
    ) -> Result<MemberDetail> {
        let me = self.member;
        let mut comm = self.reader(community)?;
        let followed_by_me = comm.follows(&me)?.contains(&m);
        let follows = comm.follows(&m)?;
        let profile = comm.profile(&m)?;
        let status = MemberStatus::from(&comm.state().status(&m));
        Ok(MemberDetail {
            member: m,
            status,
            profile,
            follows,
            followed_by_me,
        })
    }

    /// The endorsements published in a community: the latest per (from, to, topic); only
    /// those in force unless `q.all`; only those given or received by `q.member` when set.
    pub(super) fn endorsements(
        &mut self,
        community: &CommunityId,
        q: EndorsementQuery,
    ) -> Result<Vec<EndorsementView>> {
        let t = self.now();
        let mut comm = self.reader(community)?;
        Ok(comm
            .state()
            .endorsements
            .latest()
            .filter(|e| q.all || (!e.value().is_revocation() && e.valid_at(t)))
            .filter(|e| {
                q.member
                    .is_none_or(|m| e.value().from == m || e.value().to == m)
            })
            .map(|e| {
                let v = e.value();
                EndorsementView {
                    from: v.from.to_string(),
                    to: v.to.to_string(),
                    topic: v.topic.to_string(),
                    weight: v.weight.as_f64(),
                    created: v.created.as_millis(),
                    note: v.note.clone(),
                }
            })
            .collect())
    }

    /// The community as Automerge documents (`(doc id, saved bytes)`).
    pub(super) fn export(&mut self, community: &CommunityId) -> Result<Documents> {
        Ok(self
            .reader(community)?
            .export()?
            .into_iter()
            .map(|(d, b)| (d.to_string(), b))
            .collect())
    }

    /// One community from this member's point of view, in one read.
    pub(super) fn community_view(&mut self, community: &CommunityId) -> Result<CommunityView> {
        let summary = self
            .summary(community)
            .ok_or_else(|| Error::NotFound(format!("community {community}")))?;
        let me = self.member;
        let holds_root = self.keys.root.is_some();
        let now = self.now();
        let mut comm = self.reader(community)?;
        let founders = comm.genesis().value().founders.clone();
        let channels = comm.channels();
        let names: BTreeMap<MemberId, String> = comm
            .profiles()
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, p)| !p.name.trim().is_empty())
            .map(|(m, p)| (m, p.name.trim().to_string()))
            .collect();
        let st = comm.state();
        Ok(CommunityView {
            summary,
            description: st.description.clone(),
            founders,
            channels,
            me,
            holds_root,
            perms: Perm::ALL.into_iter().filter(|p| st.can(&me, *p)).collect(),
            policy: st.policy.clone(),
            role_defs: st.role_defs.clone(),
            requests: st.requests.iter().copied().collect(),
            names,
            roles: st.members.clone(),
            now,
            my_removal: st.removals.get(&me).cloned(),
        })
    }

    /// A community as the API shows it.
    pub(super) fn community_info(&mut self, community: &CommunityId) -> Result<CommunityInfo> {
        Ok(self.community_view(community)?.into())
    }
}
