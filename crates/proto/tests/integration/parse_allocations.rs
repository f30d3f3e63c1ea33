//! Parsing a valid command line does not allocate. A counting global allocator counts the
//! allocations made by the current thread, so other test threads do not disturb the count.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use smtpsim_proto::command::Command;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: the thread-local may already be gone while a thread shuts down.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

const VALID: &[&str] = &[
    "EHLO client.example.com",
    "HELO [192.0.2.1]",
    "ehlo [IPv6:2001:db8::1]",
    "MAIL FROM:<sender@example.com> SIZE=123456 BODY=8BITMIME",
    "MAIL FROM:<> RET=HDRS ENVID=QQ+2B1 AUTH=<> SMTPUTF8",
    "mail from: <@a.example,@b.example:\"john doe\"@[tag:content]>",
    "MAIL FROM:<j\u{f6}rg@m\u{fc}ller.example> SMTPUTF8",
    "RCPT TO:<rcpt@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;rcpt@example.net",
    "RCPT TO:<Postmaster> NOTIFY=NEVER",
    "DATA",
    "BDAT 4096 LAST",
    "RSET",
    "NOOP",
    "NOOP keep me busy",
    "QUIT",
    "VRFY John Smith",
    "EXPN staff",
    "HELP MAIL",
    "STARTTLS",
    "AUTH PLAIN AGFsaWNlAHNlY3JldA==",
    "AUTH CRAM-MD5",
    "DATA   ",
];

#[test]
fn parsing_valid_lines_does_not_allocate() {
    // Warm up anything lazily initialised on first use.
    for line in VALID {
        let _ = Command::parse(line.as_bytes());
    }
    for line in VALID {
        let before = allocations();
        let parsed = Command::parse(line.as_bytes());
        let after = allocations();
        assert!(parsed.is_ok(), "{line:?}: {parsed:?}");
        assert_eq!(after - before, 0, "{line:?} allocated");
        std::hint::black_box(parsed).ok();
    }
    // The counter works: an error with a message allocates.
    let before = allocations();
    let error = Command::parse(b"MAIL FROM:<> FOO=1");
    assert!(allocations() > before, "{error:?}");
}
