//! Rules against Redis 7.0.15's answers for the same modifiers (checked with redis-cli).

use super::*;

fn acl() -> Acl {
    Acl::new(crate::commands::CommandTable::new(&[]).all(), None, &[]).unwrap()
}

fn setuser(acl: &Acl, name: &str, modifiers: &[&str]) -> Result<(), String> {
    let modifiers: Vec<&[u8]> = modifiers.iter().map(|m| m.as_bytes()).collect();
    acl.set_user(name, &modifiers)
}

fn line(acl: &Acl, name: &str) -> String {
    String::from_utf8(acl.user(name.as_bytes()).unwrap().rules().describe(acl.slots())).unwrap()
}

fn check(acl: &Acl, name: &str, args: &[&str]) -> Result<(), Denied> {
    let table = crate::commands::CommandTable::new(&[]);
    let command = table.lookup(args[0].as_bytes()).unwrap().clone();
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    acl.check(&acl.user(name.as_bytes()).unwrap(), &command, &args)
}

#[test]
fn descriptions_match_redis() {
    let acl = acl();
    assert_eq!(line(&acl, "default"), "on nopass ~* &* +@all");
    setuser(&acl, "alice", &["on", ">pw", "~foo*", "+get", "+@hash", "-hdel"]).unwrap();
    // Rebuilt from the bits: the category first, then the commands that differ from it.
    assert_eq!(
        line(&acl, "alice"),
        "on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~foo* \
         resetchannels -@all +@hash +get -hdel"
    );
    // Rules that cancel out leave no trace, as in Redis.
    setuser(&acl, "r2", &["on", "+@all", "-config|set", "+get", "-get", "+@read", "+@read"])
        .unwrap();
    assert_eq!(line(&acl, "r2"), "on resetchannels +@all -config|set");
    setuser(&acl, "bob", &["on", "nopass", "allkeys", "allcommands", "-@dangerous", "&chan*"])
        .unwrap();
    assert_eq!(line(&acl, "bob"), "on nopass ~* resetchannels &chan* +@all -@dangerous");
    setuser(&acl, "r1", &["reset"]).unwrap();
    assert_eq!(line(&acl, "r1"), "off sanitize-payload resetchannels -@all");
    setuser(&acl, "x", &["%R~a*", "%W~b*", "%RW~c*"]).unwrap();
    assert_eq!(line(&acl, "x"), "off %R~a* %W~b* ~c* resetchannels -@all");
}

#[test]
fn refused_modifiers_change_nothing() {
    let acl = acl();
    setuser(&acl, "u", &["on", "+get"]).unwrap();
    let before = line(&acl, "u");
    for (modifier, error) in [
        ("bogus", "Syntax error"),
        ("+nosuch", "Unknown command or category name in ACL"),
        ("+@nosuch", "Unknown command or category name in ACL"),
        ("<zz", "The password you are trying to remove from the user does not exist"),
        (
            "#abc",
            "The password hash must be exactly 64 characters and contain only lowercase \
             hexadecimal characters",
        ),
    ] {
        let got = setuser(&acl, "u", &["+set", modifier]).unwrap_err();
        assert_eq!(got, format!("ERR Error in ACL SETUSER modifier '{modifier}': {error}"));
    }
    assert_eq!(line(&acl, "u"), before, "a refused SETUSER applies none of its modifiers");
    let error = setuser(&acl, "k", &["allkeys", "~y"]).unwrap_err();
    assert!(error.contains("Adding a pattern after the * pattern"), "{error}");
}

#[test]
fn passwords_are_checked_by_digest() {
    let acl = acl();
    setuser(&acl, "u", &["on", ">a", ">b"]).unwrap();
    let user = acl.user(b"u").unwrap();
    assert!(user.authenticates(b"a") && user.authenticates(b"b"));
    assert!(!user.authenticates(b"c") && !user.authenticates(b""));
    setuser(&acl, "u", &["<a"]).unwrap();
    assert!(!user.authenticates(b"a"));
    setuser(&acl, "u", &["off"]).unwrap();
    assert!(!user.authenticates(b"b"), "a disabled user never authenticates");
    acl.set_requirepass(Some(b"s3cret"));
    assert!(acl.default_user().authenticates(b"s3cret"));
    assert!(!acl.default_user().needs_no_password());
    acl.set_requirepass(None);
    assert!(acl.default_user().needs_no_password());
}

#[test]
fn commands_keys_and_channels_are_checked() {
    let acl = acl();
    setuser(&acl, "u", &["on", "nopass", "~foo*", "%R~ro:*", "+@read", "+set", "&news.*"]).unwrap();
    assert_eq!(check(&acl, "u", &["get", "foo1"]), Ok(()));
    assert_eq!(check(&acl, "u", &["get", "ro:1"]), Ok(()));
    assert_eq!(check(&acl, "u", &["set", "ro:1", "v"]), Err(Denied::Key(b"ro:1".to_vec())));
    assert_eq!(check(&acl, "u", &["get", "bar"]), Err(Denied::Key(b"bar".to_vec())));
    assert_eq!(check(&acl, "u", &["del", "foo"]), Err(Denied::Command("del".into())));
    assert_eq!(check(&acl, "u", &["mget", "foo", "x"]), Err(Denied::Key(b"x".to_vec())));
    setuser(&acl, "u", &["+publish", "+subscribe", "+psubscribe"]).unwrap();
    assert_eq!(check(&acl, "u", &["publish", "news.a", "m"]), Ok(()));
    assert_eq!(
        check(&acl, "u", &["subscribe", "news.a", "x"]),
        Err(Denied::Channel(b"x".to_vec()))
    );
    // PSUBSCRIBE needs the pattern itself to be granted.
    assert_eq!(check(&acl, "u", &["psubscribe", "news.*"]), Ok(()));
    assert_eq!(
        check(&acl, "u", &["psubscribe", "news.a*"]),
        Err(Denied::Channel(b"news.a*".to_vec()))
    );
}

#[test]
fn subcommands_have_their_own_bits() {
    let acl = acl();
    setuser(&acl, "u", &["on", "nopass", "allkeys", "+@all", "-config|set"]).unwrap();
    assert_eq!(line(&acl, "u"), "on nopass ~* resetchannels +@all -config|set");
    assert_eq!(check(&acl, "u", &["config", "get", "port"]), Ok(()));
    assert_eq!(
        check(&acl, "u", &["config", "SET", "port", "1"]),
        Err(Denied::Command("config|set".into()))
    );
    setuser(&acl, "v", &["on", "nopass", "+config|get"]).unwrap();
    assert_eq!(check(&acl, "v", &["config", "get", "port"]), Ok(()));
    assert_eq!(
        check(&acl, "v", &["config", "rewrite"]),
        Err(Denied::Command("config|rewrite".into()))
    );
    // `+config` then covers every subcommand, and replaces the narrower rule.
    setuser(&acl, "v", &["+config"]).unwrap();
    assert_eq!(line(&acl, "v"), "on nopass resetchannels -@all +config");
    setuser(&acl, "v", &["-config|set"]).unwrap();
    assert_eq!(line(&acl, "v"), "on nopass resetchannels -@all +config -config|set");
    assert_eq!(check(&acl, "v", &["config", "rewrite"]), Ok(()));
}

#[test]
fn categories_follow_redis() {
    let acl = acl();
    setuser(&acl, "u", &["on", "nopass", "allkeys", "+@all", "-@dangerous"]).unwrap();
    for denied in [&["keys", "*"][..], &["flushall"], &["info"], &["config", "get", "x"]] {
        assert!(check(&acl, "u", denied).is_err(), "{denied:?}");
    }
    assert_eq!(check(&acl, "u", &["get", "k"]), Ok(()));
    assert_eq!(check(&acl, "u", &["dbsize"]), Ok(()));
}

#[test]
fn the_default_user_cannot_be_deleted_and_others_can() {
    let acl = acl();
    setuser(&acl, "u", &[]).unwrap();
    assert_eq!(
        acl.delete_users(&[b"default"]).unwrap_err(),
        "ERR The 'default' user cannot be removed"
    );
    assert_eq!(acl.delete_users(&[b"u", b"nobody"]).unwrap().len(), 1);
    assert!(acl.user(b"u").is_none());
}

#[test]
fn the_log_groups_similar_denials() {
    let acl = acl();
    let denied = Denied::Key(b"k".to_vec());
    acl.log_denial(&denied, "u", false, "id=1".into());
    acl.log_denial(&denied, "u", false, "id=2".into());
    acl.log_auth_failure(b"nobody", "id=3".into());
    let log = acl.log(10);
    assert_eq!(log.len(), 2);
    assert_eq!((log[0].reason, log[0].count), ("auth", 1));
    assert_eq!((log[1].reason, log[1].count, log[1].client_info.as_str()), ("key", 2, "id=2"));
    for index in 0..LOG_MAX_ENTRIES + 10 {
        acl.log_auth_failure(format!("user{index}").as_bytes(), String::new());
    }
    assert_eq!(acl.log(usize::MAX).len(), LOG_MAX_ENTRIES);
    acl.reset_log();
    assert!(acl.log(10).is_empty());
}
