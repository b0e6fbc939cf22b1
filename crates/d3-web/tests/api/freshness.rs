//! No cached answer older than an acknowledged write (issue 16, "Fresh"):
//! readers racing writers on one replica, invalidations that Redis missed
//! reaching the other replicas and a replica started later, and a write
//! whose replica lost Redis acknowledged only once no replica can serve
//! the old copy.

use std::{
    sync::{
        atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use d3_web::{cache::Lookup, users::user_key};
use serde_json::{json, Value};

use crate::helpers::{
    fresh_database, fresh_prefix, spawn_app, spawn_replica, stores, Outage, TestApp,
};

/// Users the writers update, each by one writer so its versions commit in
/// order.
const USERS: usize = 3;
const READERS: usize = 12;
/// Requests in all, readers' and writers'.
const OPERATIONS: usize = 12_000;
const RACE_DEADLINE: Duration = Duration::from_secs(120);

/// The version a user's name carries: `v7` is 7.
fn version(name: &Value) -> u64 {
    name.as_str()
        .and_then(|n| n.strip_prefix('v'))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a versioned name: {name}"))
}

/// What the writers have had acknowledged so far.
#[derive(Debug)]
struct Acknowledged {
    /// Per user, the last version a PUT answered 200 for.
    users: Vec<AtomicU64>,
    /// The highest post id a POST answered 201 for.
    newest_post: AtomicI64,
}

#[derive(Debug, Default)]
struct Figures {
    reads: AtomicUsize,
    from_cache: AtomicUsize,
    writes: AtomicUsize,
    stale: AtomicUsize,
    examples: Mutex<Vec<String>>,
}

impl Figures {
    fn stale(&self, what: String) {
        self.stale.fetch_add(1, Ordering::SeqCst);
        let mut examples = self.examples.lock().unwrap();
        if examples.len() < 5 {
            examples.push(what);
        }
    }
}

/// Counts one operation against the budget; false once it is spent.
fn another(done: &AtomicUsize, start: Instant) -> bool {
    done.fetch_add(1, Ordering::SeqCst) < OPERATIONS && start.elapsed() < RACE_DEADLINE
}

/// One read of a random cached endpoint. Every floor is taken before the
/// request starts: an answer below it is older than a write acknowledged
/// before the read began.
async fn read_once(app: &TestApp, ids: &[i64], acked: &Acknowledged, figures: &Figures) {
    let floors: Vec<u64> = acked
        .users
        .iter()
        .map(|v| v.load(Ordering::SeqCst))
        .collect();
    let newest_post = acked.newest_post.load(Ordering::SeqCst);
    let choice = fastrand::usize(0..5);
    let path = match choice {
        0..=2 => format!("/users/{}", ids[choice % USERS]),
        3 => "/users".to_owned(),
        _ => "/api/posts/cache".to_owned(),
    };
    let answer = app.get(&path).await;
    assert_eq!(answer.status, 200, "{path}: {}", answer.body);
    let body = answer.json();
    figures.reads.fetch_add(1, Ordering::SeqCst);
    if body["fonte"] == "cache" {
        figures.from_cache.fetch_add(1, Ordering::SeqCst);
    }
    match choice {
        0..=2 => {
            let seen = version(&body["name"]);
            if seen < floors[choice % USERS] {
                figures.stale(format!("{path}: v{seen} after v{}", floors[choice % USERS]));
            }
        }
        3 => {
            for user in body["users"].as_array().unwrap() {
                let i = ids.iter().position(|id| *id == user["id"]).unwrap();
                let seen = version(&user["name"]);
                if seen < floors[i] {
                    figures.stale(format!(
                        "/users: user {} v{seen} after v{}",
                        ids[i], floors[i]
                    ));
                }
            }
        }
        _ => {
            let newest = body["posts"][0]["id"].as_i64().unwrap();
            if newest < newest_post {
                figures.stale(format!(
                    "/api/posts/cache: newest {newest} after {newest_post}"
                ));
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_read_after_an_acknowledged_write_returns_the_old_value() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..USERS {
        let created = app
            .post(
                "/users",
                json!({"name": "v0", "email": format!("u{i}@test.com")}),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.body);
        ids.push(created.json()["id"].as_i64().unwrap());
    }
    let ids = Arc::new(ids);
    let acked = Arc::new(Acknowledged {
        users: (0..USERS).map(|_| AtomicU64::new(0)).collect(),
        newest_post: AtomicI64::new(0),
    });
    let figures = Arc::new(Figures::default());
    let done = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();

    for (i, id) in ids.iter().copied().enumerate() {
        let (app, acked, figures, done) =
            (app.clone(), acked.clone(), figures.clone(), done.clone());
        tasks.spawn(async move {
            let mut next = 1;
            while another(&done, start) {
                let put = app
                    .put(&format!("/users/{id}"), json!({"name": format!("v{next}")}))
                    .await;
                assert_eq!(put.status, 200, "{}", put.body);
                acked.users[i].store(next, Ordering::SeqCst);
                figures.writes.fetch_add(1, Ordering::SeqCst);
                next += 1;
            }
        });
    }
    {
        let (app, acked, figures, done) =
            (app.clone(), acked.clone(), figures.clone(), done.clone());
        tasks.spawn(async move {
            while another(&done, start) {
                let post = app
                    .post("/api/posts", json!({"titulo": "t", "conteudo": "c"}))
                    .await;
                assert_eq!(post.status, 201, "{}", post.body);
                let id = post.json()["id"].as_i64().unwrap();
                acked.newest_post.fetch_max(id, Ordering::SeqCst);
                figures.writes.fetch_add(1, Ordering::SeqCst);
            }
        });
    }
    for _ in 0..READERS {
        let (app, ids, acked, figures, done) = (
            app.clone(),
            ids.clone(),
            acked.clone(),
            figures.clone(),
            done.clone(),
        );
        tasks.spawn(async move {
            while another(&done, start) {
                read_once(&app, &ids, &acked, &figures).await;
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.unwrap();
    }

    let took = start.elapsed();
    let reads = figures.reads.load(Ordering::SeqCst);
    let writes = figures.writes.load(Ordering::SeqCst);
    let stale = figures.stale.load(Ordering::SeqCst);
    println!(
        "freshness: {} ops ({reads} reads, {} from the cache; {writes} writes) in {took:.1?}, \
         stale={stale}",
        reads + writes,
        figures.from_cache.load(Ordering::SeqCst),
    );
    assert!(
        reads + writes >= 10_000,
        "only {} operations in {RACE_DEADLINE:?}",
        reads + writes
    );
    assert_eq!(
        stale,
        0,
        "reads older than an acknowledged write: {:?}",
        figures.examples.lock().unwrap()
    );
}

/// The race by hand: a reader misses, a write commits and invalidates, and
/// the reader's old copy is refused.
#[tokio::test]
async fn a_copy_loaded_before_a_write_is_refused_after_it() {
    let app = spawn_app().await;
    let old = app
        .post("/users", json!({"name": "Ana", "email": "ana@test.com"}))
        .await
        .json();
    let id = old["id"].as_i64().unwrap();
    let key = user_key(i32::try_from(id).unwrap());
    let cache = &app.state.cache;

    let Lookup::Miss(seen) = cache.lookup::<Value>(&key).await.unwrap() else {
        panic!("nothing is cached yet");
    };
    let put = app
        .put(&format!("/users/{id}"), json!({"name": "Ana B"}))
        .await;
    assert_eq!(put.status, 200, "{}", put.body);
    let stored = cache
        .store_if_current(&key, &seen, &old, Duration::from_secs(300))
        .await
        .unwrap();
    assert!(!stored, "the copy loaded before the write was stored");

    let fresh = app.get(&format!("/users/{id}")).await.json();
    assert_eq!(
        (fresh["name"].as_str(), fresh["from_cache"].as_bool()),
        (Some("Ana B"), Some(false))
    );
    let cached = app.get(&format!("/users/{id}")).await.json();
    assert_eq!(
        (cached["name"].as_str(), cached["from_cache"].as_bool()),
        (Some("Ana B"), Some(true))
    );
}

/// A replica of a service reaching Redis through a switchable forwarder.
struct Replica {
    app: TestApp,
    redis: Outage,
}

async fn replica(database: &str, prefix: &str) -> Replica {
    let redis = Outage::forward_to(&stores().redis).await;
    let url = format!("redis://127.0.0.1:{}/", redis.port);
    let app = spawn_replica(database, &url, prefix).await;
    assert!(
        app.state.wait_ready(Duration::from_secs(30)).await,
        "the stores did not become ready"
    );
    Replica { app, redis }
}

/// A user, created and read twice through `app` so that its copy is cached.
async fn cached_user(app: &TestApp) -> String {
    let id = app
        .post("/users", json!({"name": "Ana", "email": "ana@test.com"}))
        .await
        .json()["id"]
        .clone();
    let path = format!("/users/{id}");
    app.get(&path).await;
    let hit = app.get(&path).await.json();
    assert_eq!(
        (hit["name"].as_str(), hit["from_cache"].as_bool()),
        (Some("Ana"), Some(true))
    );
    path
}

/// Reads `path` through `app` until the answer comes from the cache again
/// (bounded); every answer must carry the new name. Returns the reads.
async fn never_old(app: &TestApp, path: &str, who: &str) -> usize {
    let start = Instant::now();
    for reads in 1..=1000 {
        let answer = app.get(path).await;
        assert_eq!(answer.status, 200, "{who}: {}", answer.body);
        let body = answer.json();
        assert_eq!(
            body["name"], "Ana B",
            "{who} served the copy from before the write: {body}"
        );
        if body["from_cache"] == true {
            return reads;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "{who} never trusted the cache again"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{who} never trusted the cache again");
}

async fn pending_rows(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM cache_pendente")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap()
}

/// Two replicas of one service on a fresh database, and the path of a user
/// cached through the second.
async fn two_replicas_with_a_cached_user() -> (Replica, Replica, String) {
    let database = fresh_database().await;
    let prefix = fresh_prefix();
    let a = replica(&database, &prefix).await;
    let b = replica(&database, &prefix).await;
    let path = cached_user(&b.app).await;
    (a, b, path)
}

/// Renames the user at `path` through `app`, which must acknowledge it;
/// returns how long the acknowledgement took.
async fn acknowledged_rename(app: &TestApp, path: &str) -> Duration {
    let start = Instant::now();
    let put = app.put(path, json!({"name": "Ana B"})).await;
    assert_eq!(put.status, 200, "the write is acknowledged: {}", put.body);
    start.elapsed()
}

/// Redis away for replica A only, while replica B keeps trusting it with
/// the user cached: A's write is acknowledged only once the old copy is
/// gone (here B's sweep dropped it), so B's very next read is the new one.
#[tokio::test]
async fn a_write_whose_replica_lost_redis_is_not_served_old_by_another() {
    let (a, b, path) = two_replicas_with_a_cached_user().await;
    let bound = a.app.state.cache.invalidation_bound();

    a.redis.stop();
    let took = acknowledged_rename(&a.app, &path).await;
    let read = b.app.get(&path).await.json();
    assert_eq!(
        read["name"], "Ana B",
        "replica B served the copy from before the acknowledged write: {read}"
    );
    assert!(
        b.app.state.cache.is_trusted(),
        "B, which never lost Redis, still trusts it"
    );
    assert!(!a.app.state.cache.is_trusted(), "A does not, Redis is away");
    assert_eq!(
        pending_rows(&a.app).await,
        0,
        "the invalidation A could not run was run by B's sweep"
    );
    assert!(
        took < bound,
        "acknowledged when B's sweep dropped the keys, not at the bound: {took:?}"
    );
    let cached = b.app.get(&path).await.json();
    assert_eq!(
        (cached["name"].as_str(), cached["from_cache"].as_bool()),
        (Some("Ana B"), Some(true)),
        "B caches the new value"
    );

    a.redis.start();
    let reads_a = never_old(&a.app, &path, "replica A").await;
    println!(
        "freshness: Redis away for replica A only: its PUT acknowledged in {took:?} \
         (bound {bound:?}), B's next read fresh; A fresh in {reads_a} reads once back"
    );
}

/// Redis away for both replicas: nobody can drop the old copy, so the
/// write waits out the bound, then is acknowledged (it is committed), and
/// no replica serves the old copy once Redis is back.
#[tokio::test]
async fn an_invalidation_redis_missed_reaches_the_other_replica() {
    let (a, b, path) = two_replicas_with_a_cached_user().await;
    let bound = a.app.state.cache.invalidation_bound();

    a.redis.stop();
    b.redis.stop();
    crate::helpers::eventually(
        "replica B to notice Redis is away",
        Duration::from_secs(10),
        || async { !b.app.state.cache.is_trusted() },
    )
    .await;
    let took = acknowledged_rename(&a.app, &path).await;
    println!(
        "freshness: Redis away for every replica: PUT acknowledged in {took:?} (bound {bound:?})"
    );
    assert!(
        took >= bound && took < bound + Duration::from_secs(1),
        "acknowledged after {took:?}, bound {bound:?}"
    );
    assert_eq!(pending_rows(&a.app).await, 2, "users_list and the user");

    // Back for B only: A, which saw its invalidation fail, cannot help.
    b.redis.start();
    let reads = never_old(&b.app, &path, "replica B").await;
    assert_eq!(pending_rows(&b.app).await, 0, "B swept what A left");
    a.redis.start();
    let reads_a = never_old(&a.app, &path, "replica A").await;
    println!("freshness: replica B fresh in {reads} reads, replica A in {reads_a}");
}

#[tokio::test]
async fn an_invalidation_redis_missed_reaches_a_replica_started_later() {
    let database = fresh_database().await;
    let prefix = fresh_prefix();
    let a = replica(&database, &prefix).await;
    let path = cached_user(&a.app).await;

    a.redis.stop();
    acknowledged_rename(&a.app, &path).await;

    // The restart case: a replica that was not there when the write failed.
    let c = replica(&database, &prefix).await;
    let reads = never_old(&c.app, &path, "replica C").await;
    assert_eq!(pending_rows(&c.app).await, 0);
    println!("freshness: replica C fresh in {reads} reads");
}
