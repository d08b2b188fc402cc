//! The city users page: a city admin adds a user with a role and disables one; a disabled
//! user's session ends at once and their sign-in is refused; a viewer cannot use the page.

use tokio::sync::watch;

use crate::support::{Web, add_hall, database, shared_cluster};

const PASSWORD: &str = "a-long-password-1";

#[tokio::test]
async fn a_city_admin_adds_a_user_and_disables_one() {
    let _cluster = shared_cluster().await;
    let Some((url, client)) = database("users_page").await else {
        return;
    };
    let (_, _dir, key) = add_hall(&client, "清河县", "http://127.0.0.1:9", "unused").await;
    jiaohao_city::users::add(
        &client,
        "wang",
        jiaohao_city::users::CityRole::Admin,
        PASSWORD,
    )
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop_tx, mut stop) = watch::channel(false);
    let service = tokio::spawn(async move {
        jiaohao_city::serve::run(&url, key, listener, async move {
            let _ = stop.changed().await;
        })
        .await
    });

    let mut admin = Web::new(&base);
    assert_eq!(admin.sign_in("wang", PASSWORD).await.status(), 303);
    let page = admin.get("/admin/users").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("wang") && html.contains("添加用户"), "{html}");
    let csrf = admin.csrf("/admin/users").await;

    // A viewer added with the page; a bad name and a taken name are refused in words.
    let added = admin
        .post(
            "/admin/users",
            &format!("csrf={csrf}&name=zhao&role=viewer&password={PASSWORD}"),
        )
        .await;
    assert_eq!(added.status(), 200);
    let added = added.text().await.unwrap();
    assert!(
        added.contains("已添加用户") && added.contains("zhao</div>"),
        "{added}"
    );
    let taken = admin
        .post(
            "/admin/users",
            &format!("csrf={csrf}&name=zhao&role=city_admin&password={PASSWORD}"),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        taken.contains("无法添加") && taken.contains("已存在"),
        "{taken}"
    );
    let short = admin
        .post(
            "/admin/users",
            &format!("csrf={csrf}&name=qian&role=viewer&password=short"),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(short.contains("无法添加"), "{short}");
    // Without the page's CSRF token nothing is added.
    let forged = admin
        .post(
            "/admin/users",
            &format!("csrf=forged&name=sun&role=city_admin&password={PASSWORD}"),
        )
        .await;
    assert_eq!(forged.status(), 403);
    let names: Vec<String> = jiaohao_city::users::list(&client)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["wang", "zhao"]);

    // The viewer signs in and sees the board, not the users page.
    let mut viewer = Web::new(&base);
    assert_eq!(viewer.sign_in("zhao", PASSWORD).await.status(), 303);
    assert_eq!(viewer.get("/").await.status(), 200);
    assert_eq!(viewer.get("/admin/users").await.status(), 403);
    let viewer_csrf = {
        let html = viewer.get("/").await.text().await.unwrap();
        let at = html.find(r#"name="csrf" value=""#).unwrap() + 19;
        html[at..at + html[at..].find('"').unwrap()].to_owned()
    };
    let refused = viewer
        .post(
            "/admin/users/disabled",
            &format!("csrf={viewer_csrf}&name=wang&disabled=true"),
        )
        .await;
    assert_eq!(refused.status(), 403);

    // Disabled: the viewer's session ends at once, and a right password no longer signs in.
    let disabled = admin
        .post(
            "/admin/users/disabled",
            &format!("csrf={csrf}&name=zhao&disabled=true"),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        disabled.contains("已停用") && disabled.contains("zhao</div>"),
        "{disabled}"
    );
    assert_eq!(viewer.get("/").await.status(), 303);
    let again = viewer.sign_in("zhao", PASSWORD).await;
    assert_eq!(again.status(), 401);
    assert!(again.text().await.unwrap().contains("已被停用"));
    // A wrong password says only that.
    let wrong = viewer.sign_in("zhao", "not-the-password").await;
    assert!(!wrong.text().await.unwrap().contains("停用"));
    // The admin cannot disable themselves (the last admin would lock the city out).
    let own = admin
        .post(
            "/admin/users/disabled",
            &format!("csrf={csrf}&name=wang&disabled=true"),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(own.contains("不能停用自己的账号"), "{own}");
    // Enabled again, the viewer signs in.
    admin
        .post(
            "/admin/users/disabled",
            &format!("csrf={csrf}&name=zhao&disabled=false"),
        )
        .await;
    assert_eq!(viewer.sign_in("zhao", PASSWORD).await.status(), 303);

    stop_tx.send(true).unwrap();
    service.await.unwrap().unwrap();
}

/// Wrong passwords lock a city user after five tries, at the sign-in and at the change of
/// one's own password alike (one count), and while locked the right password is refused too.
#[tokio::test]
async fn wrong_passwords_lock_a_user_at_sign_in_and_at_a_password_change_alike() {
    use jiaohao_city::users::{self, CityRole, Refused};
    let _cluster = shared_cluster().await;
    let Some((_url, client)) = database("lockout").await else {
        return;
    };
    users::add(&client, "wang", CityRole::Viewer, PASSWORD)
        .await
        .unwrap();
    let sign_in = |password: &'static str| {
        let client = &client;
        async move {
            users::sign_in(client, "wang", password)
                .await
                .unwrap()
                .err()
        }
    };
    let change = |current: &'static str| {
        let client = &client;
        async move {
            users::change_password(client, "wang", current, "another-long-password-2", "none")
                .await
                .unwrap()
        }
    };
    for _ in 0..3 {
        assert_eq!(
            sign_in("wrong-password-1").await,
            Some(Refused::WrongPassword)
        );
    }
    // A wrong current password at the change is the fourth failure, the next sign-in's the
    // fifth: locked.
    assert_eq!(
        change("wrong-password-1").await,
        Err(Refused::WrongPassword)
    );
    assert_eq!(sign_in("wrong-password-1").await, Some(Refused::Locked));
    assert_eq!(sign_in(PASSWORD).await, Some(Refused::Locked));
    assert_eq!(change(PASSWORD).await, Err(Refused::Locked));
}
