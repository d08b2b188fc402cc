//! Registering a hall on the city's admin page (`POST /admin/halls`, with the form's CSRF
//! token, as the page sends it): the running service follows the hall at once, and the token
//! is never shown again, neither on a page nor in clear in PostgreSQL. A viewer may not.

use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio_postgres::Client;

use crate::support::{Web, database, form, hall_to_follow, shared_cluster};

const PASSWORD: &str = "a-long-password-1";

/// Every row of every table of the city's schema, as text (`bytea` as hex).
async fn every_row(client: &Client) -> String {
    let tables: Vec<String> = client
        .query(
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(tables.iter().any(|t| t == "halls"), "{tables:?}");
    let mut all = String::new();
    for table in tables {
        for row in client
            .query(&format!("SELECT t::text FROM {table} t"), &[])
            .await
            .unwrap()
        {
            all.push_str(row.get::<_, &str>(0));
            all.push('\n');
        }
    }
    all
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn a_city_admin_registers_a_hall_on_the_page_and_the_service_follows_it() {
    let _cluster = shared_cluster().await;
    let Some((url, client)) = database("halls_page").await else {
        return;
    };
    let (hub, target, token) = hall_to_follow().await;
    for (name, role) in [
        ("wang", jiaohao_city::users::CityRole::Admin),
        ("zhao", jiaohao_city::users::CityRole::Viewer),
    ] {
        jiaohao_city::users::add(&client, name, role, PASSWORD)
            .await
            .unwrap();
    }
    let keys = tempfile::tempdir().unwrap();
    let key = std::sync::Arc::new(
        jiaohao_city::KeyFile::open_or_create(&keys.path().join("city.key")).unwrap(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop_tx, mut stop) = watch::channel(false);
    let service = tokio::spawn({
        let (url, key) = (url.clone(), key.clone());
        async move {
            jiaohao_city::serve::run(&url, key, listener, async move {
                let _ = stop.changed().await;
            })
            .await
        }
    });

    // A viewer sees no form and may not post one, even with their own CSRF token.
    let mut viewer = Web::new(&base);
    assert_eq!(viewer.sign_in("zhao", PASSWORD).await.status(), 303);
    assert_eq!(viewer.get("/admin/halls").await.status(), 403);
    let viewer_csrf = viewer.csrf("/").await;
    let refused = viewer
        .post(
            "/admin/halls",
            &form(&[
                ("csrf", &viewer_csrf),
                ("name", "清河县"),
                ("url", &hub.url()),
                ("token", &token),
            ]),
        )
        .await;
    assert_eq!(refused.status(), 403);

    // The admin fills in the page's form; without its CSRF token nothing is added.
    let mut admin = Web::new(&base);
    assert_eq!(admin.sign_in("wang", PASSWORD).await.status(), 303);
    let page = admin.get("/admin/halls").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(r#"action="/admin/halls""#)
            && html.contains(r#"name="token" type="password""#),
        "{html}"
    );
    let forged = admin
        .post(
            "/admin/halls",
            &form(&[
                ("csrf", "forged"),
                ("name", "清河县"),
                ("url", &hub.url()),
                ("token", &token),
            ]),
        )
        .await;
    assert_eq!(forged.status(), 403);
    assert!(jiaohao_city::halls::list(&client).await.unwrap().is_empty());

    let csrf = admin.csrf("/admin/halls").await;
    let added = admin
        .post(
            "/admin/halls",
            &form(&[
                ("csrf", &csrf),
                ("name", "清河县"),
                ("url", &format!("{}/", hub.url())),
                ("token", &token),
            ]),
        )
        .await;
    assert_eq!(added.status(), 200);
    let added = added.text().await.unwrap();
    assert!(
        added.contains("已添加，正在连接") && added.contains("清河县"),
        "{added}"
    );
    assert!(added.contains("已加密保存，不再显示"), "{added}");
    assert!(!added.contains(&token), "the token is shown back: {added}");
    // The same name again is refused in words, and the token is not echoed either.
    let twice = admin
        .post(
            "/admin/halls",
            &form(&[
                ("csrf", &csrf),
                ("name", "清河县"),
                ("url", &hub.url()),
                ("token", &token),
            ]),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(twice.contains("无法添加"), "{twice}");
    assert!(!twice.contains(&token), "{twice}");

    // The running service follows it: every record of the hall arrives, the board shows it.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let row = client
            .query_one(
                "SELECT state, last_seq, (SELECT count(*) FROM records r WHERE r.hall = h.id)
                 FROM halls h WHERE name = '清河县'",
                &[],
            )
            .await
            .unwrap();
        let now: (String, i64, i64) = (row.get(0), row.get(1), row.get(2));
        if now == ("connected".to_owned(), target, target) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the hall added stands at {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let board = admin.get("/").await.text().await.unwrap();
    assert!(board.contains("清河县"), "{board}");

    // The token is never shown again: on no page, in no row of PostgreSQL in clear (only
    // sealed, and the key file opens it).
    for path in ["/admin/halls", "/", "/api/board", "/admin/users"] {
        let text = admin.get(path).await.text().await.unwrap();
        assert!(!text.contains(&token), "{path} shows the token");
    }
    let rows = every_row(&client).await;
    assert!(!rows.contains(&token), "the token in clear in PostgreSQL");
    assert!(
        !rows.contains(&hex(&token)),
        "the token's bytes in PostgreSQL"
    );
    let entry = jiaohao_city::halls::list(&client).await.unwrap().remove(0);
    assert_eq!(
        entry.url,
        hub.url(),
        "the address without its trailing slash"
    );
    assert_eq!(
        key.open_token(&entry.name, &entry.token_sealed).unwrap(),
        token
    );

    stop_tx.send(true).unwrap();
    service.await.unwrap().unwrap();
    hub.stop().await;
}
