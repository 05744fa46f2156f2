"""Which record files cannot have changed since the last pass, known without a stat (Linux).

A warm poll stats every tracked file only to learn that nothing changed. Here the folders that
hold them are watched with inotify, and `verified` keeps, for each file, the stat it had when it
was last stat'ed, as long as that stands: the stat was taken while its folder was already watched
(so any later change queues an event) and no event has named the file since. The file index
skips a file whose `verified` stat equals its cursor's; everything else is stat'ed as before.

Whatever cannot be proved falls back to a stat: a folder whose watch was lost or could not be
made (ENOSPC, EACCES, over the budget, not a local filesystem), a queue overflow (every file),
a folder whose path now leads elsewhere (an ancestor renamed, a symlink switched, a mount), a
file that is a symlink or has other hard links (writes through another name notify another
folder). And every `FULL_PASS_EVERY_S` every file is stat'ed anyway, for changes inotify never
reports: a write through mmap, one made by another machine, or one through a hard link made
after the file's last stat (linking notifies watches on the file, not on its folder).

Not Linux, or no inotify: `begin_pass()` is False and the index stats every file, as before. The
descriptor is used by the process that opened it only: a forked worker (core.fresh_read) shares
the same inotify instance, and reading it there would steal the parent's events.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat as stat_module
import struct
import sys
import time
import weakref
from typing import Any

log = logging.getLogger(__name__)

Stamp = tuple[int, int, int, int]  # (size, mtime_ns, ino, dev), as FileIndex keeps cursors

# Even with inotify, every file is stat'ed this often: changes that inotify does not report (a
# write through mmap, a network filesystem written by another host) are then seen within this.
FULL_PASS_EVERY_S = 60.0
# Watches are a per-user resource that editors and build tools also need: never more than this,
# nor more than a quarter of the user's limit. The folders past it are stat'ed every pass.
MAX_WATCHES = 4000

# <sys/inotify.h>
IN_MODIFY = 0x2
IN_ATTRIB = 0x4
IN_CLOSE_WRITE = 0x8
IN_MOVED_FROM = 0x40
IN_MOVED_TO = 0x80
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_DELETE_SELF = 0x400
IN_MOVE_SELF = 0x800
IN_UNMOUNT = 0x2000
IN_Q_OVERFLOW = 0x4000
IN_IGNORED = 0x8000
IN_ONLYDIR = 0x1000000
IN_NONBLOCK = getattr(os, "O_NONBLOCK", 0o4000)  # the O_ flags: they differ between CPUs
IN_CLOEXEC = getattr(os, "O_CLOEXEC", 0o2000000)
WATCH_MASK = (
    IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM
    | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR
)  # fmt: skip
# The watch itself is gone or no longer covers the folder's path: stat its files again.
LOST = IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT

_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then `len` bytes of NUL-padded name
_READ_BYTES = 64 * 1024
_MAX_READS = 64  # per pass: a queue still not empty after 4 MiB is handled as an overflow

# statfs f_type of local filesystems, whose every change goes through this kernel and so is
# reported. Any other (NFS, SMB, FUSE, 9p, virtiofs, cluster filesystems...) is stat'ed always.
LOCAL_FILESYSTEMS = frozenset({
    0xEF53,  # ext2/3/4
    0x58465342,  # xfs
    0x9123683E,  # btrfs
    0x01021994,  # tmpfs
    0xF2F52010,  # f2fs
    0x2FC12FC1,  # zfs
    0xCA451A4E,  # bcachefs
    0x52654973,  # reiserfs
    0x3153464A,  # jfs
    0x794C7630,  # overlayfs (containers)
    0xF15F,  # ecryptfs (encrypted homes)
})  # fmt: skip


def _now() -> float:
    return time.monotonic()  # a function, so tests can move the clock on


class _Libc:
    """The three inotify calls and statfs, through ctypes (imported only when first needed)."""

    def __init__(self) -> None:
        import ctypes

        self._ctypes = ctypes
        self._libc = ctypes.CDLL(None, use_errno=True)
        self.init1 = self._libc.inotify_init1
        self.add_watch = self._libc.inotify_add_watch
        self.add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        self.rm_watch = self._libc.inotify_rm_watch
        self.rm_watch.argtypes = [ctypes.c_int, ctypes.c_int]
        self._statfs = self._libc.statfs
        self._buffer = ctypes.create_string_buffer(512)  # struct statfs is 120 bytes on 64-bit

    def errno(self) -> int:
        return self._ctypes.get_errno()

    def fs_type(self, path: bytes) -> int | None:
        if self._statfs(path, self._buffer) != 0:
            return None
        # f_type comes first, a C long (sign-extended on some 32-bit ABIs: the magics are 32 bits)
        value = self._ctypes.c_long.from_buffer(self._buffer).value
        return value & 0xFFFFFFFF


_LIBC: _Libc | None = None


def _open_inotify() -> tuple[_Libc, int] | None:
    """A non-blocking, close-on-exec inotify descriptor; None where there is none."""
    global _LIBC
    if not sys.platform.startswith("linux"):
        return None
    try:
        if _LIBC is None:
            _LIBC = _Libc()
        fd = int(_LIBC.init1(IN_NONBLOCK | IN_CLOEXEC))
    except (OSError, AttributeError) as exc:  # no libc, or a libc without inotify
        log.debug("inotify unavailable: %s", exc)
        return None
    if fd < 0:  # EMFILE: the user's max_user_instances is used up
        log.debug("inotify_init1 failed: %s", os.strerror(_LIBC.errno()))
        return None
    return _LIBC, fd


def _watch_budget() -> int:
    try:
        with open("/proc/sys/fs/inotify/max_user_watches", "rb") as handle:
            return max(0, min(MAX_WATCHES, int(handle.read()) // 4))
    except (OSError, ValueError):
        return MAX_WATCHES


def _close(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)


class ChangeWatch:
    """The inotify state of one FileIndex; one thread at a time, like the index."""

    def __init__(self) -> None:
        # path -> its stat (see the module's docstring): the only thing the index reads here
        self.verified: dict[str, Stamp] = {}
        self._libc: _Libc | None = None
        self._fd = -1
        self._pid = 0
        self._closer: weakref.finalize[Any, Any] | None = None
        self._retry_at: float | None = None  # after a failed open: when to try again
        self._budget = 0
        self._full_at: float | None = None  # when the next full pass is due
        self._full = False  # this pass stats every file
        self._wd_of: dict[str, int] = {}  # watched folder (as the paths spell it) -> wd
        self._heads: dict[int, set[str]] = {}  # wd -> the folders it watches (aliases: one inode)
        self._ident: dict[str, tuple[int, int]] = {}  # folder -> (ino, dev) it was watched at
        self._members: dict[str, set[str]] = {}  # folder -> its files in `verified`
        self._failed: set[str] = set()  # folders not to try again before the next full pass
        self._local_dev: dict[int, bool] = {}  # st_dev -> on a local filesystem
        self._used: set[str] = set()  # folders this pass stat'ed files in
        self._passes = 0

    # -- the pass ---------------------------------------------------------------------------

    def begin_pass(self, cold: bool) -> bool:
        """Bring `verified` up to date. False: stat every file this pass (no inotify here)."""
        self._passes += 1
        # Watching costs a one-pass CLI run more than it saves (making the watches, and closing
        # them at exit waits out an RCU grace period, 3-20 ms): a warm index watches from its
        # second pass on. A cold one (nothing tracked) is about to read everything: at once.
        if self._passes == 1 and not cold:
            return False
        if self._fd < 0 and not self._open():
            return False
        if os.getpid() != self._pid:  # a forked child: the descriptor is the parent's
            return False
        now = _now()
        self._full = self._full_at is None or now >= self._full_at
        self._used = set()
        if self._full:
            self._full_at = now + FULL_PASS_EVERY_S
            self._forget_verified()
            self._failed.clear()
            self._local_dev.clear()
        # Does each folder's path still lead to the inode watched? Not if an ancestor was renamed,
        # a symlink on the way switched, or (a relative path) the working folder changed. Folders
        # first, events second: an event that invalidates a folder whose path checked out (its
        # inode deleted, its number reused) was queued before the check, so it is read.
        for head, ident in list(self._ident.items()):
            try:
                st = os.stat(head)
            except OSError:
                self._drop(head)
                continue
            if (st.st_ino, st.st_dev) != ident:
                self._drop(head)
        if not self._drain():
            self._reset()
        return self._fd >= 0

    def end_pass(self, complete: bool) -> None:
        """After a full pass that reached every file: unwatch the folders it did not need."""
        if self._fd < 0 or os.getpid() != self._pid or not (self._full and complete):
            return
        for head in [h for h in self._wd_of if h not in self._used]:
            self._drop(head)

    def stat(self, path: str) -> os.stat_result:
        """`os.stat(path)`, after making sure its folder is watched; remembered in `verified`
        when nothing but an event can change it unseen."""
        verified = self.verified
        head, _, name = path.rpartition("/")
        if not name or not self._watch(head):
            verified.pop(path, None)
            return os.stat(path)
        try:
            st = os.lstat(path)  # the same as os.stat for the regular file it almost always is
        except OSError:
            verified.pop(path, None)
            return os.stat(path)  # raises what the index has always reported
        if stat_module.S_ISLNK(st.st_mode):
            verified.pop(path, None)  # the target's folder gets the events, not this one
            return os.stat(path)
        if (
            not stat_module.S_ISREG(st.st_mode)
            or st.st_nlink != 1  # written through another link: another folder is notified
            or st.st_dev != self._ident[head][1]  # a mount point: its own filesystem
        ):
            verified.pop(path, None)
            return st
        verified[path] = (st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)
        self._members[head].add(path)
        return st

    def close(self) -> None:
        if self._closer is not None:
            self._closer()  # closes the descriptor, once
        self._fd = -1
        self._clear()
        self._retry_at = float("inf")  # closed for good

    # -- watches ----------------------------------------------------------------------------

    def _watch(self, head: str) -> bool:
        """Whether `head` is watched now (watching it if it can be): a stat that follows counts."""
        if head in self._wd_of:
            self._used.add(head)
            return True
        if (
            self._libc is None
            or not head  # "/x" or "x": not worth a special case
            or head in self._failed
            or len(self._heads) >= self._budget
        ):
            return False
        try:
            before = os.stat(head)
        except OSError:
            return False
        encoded = os.fsencode(head)
        local = self._local_dev.get(before.st_dev)
        if local is None:
            local = self._libc.fs_type(encoded) in LOCAL_FILESYSTEMS
            self._local_dev[before.st_dev] = local
        if not local:
            self._failed.add(head)
            return False
        wd = int(self._libc.add_watch(self._fd, encoded, WATCH_MASK))
        if wd < 0:  # ENOSPC (user's watches used up), EACCES, ENOENT, ENOTDIR
            log.debug("cannot watch %s: %s", head, os.strerror(self._libc.errno()))
            self._failed.add(head)
            return False
        try:
            after = os.stat(head)
        except OSError:
            after = None
        ident = (before.st_ino, before.st_dev)
        if after is None or (after.st_ino, after.st_dev) != ident:  # renamed meanwhile
            if wd not in self._heads:
                self._libc.rm_watch(self._fd, wd)
            return False
        self._wd_of[head] = wd
        self._heads.setdefault(wd, set()).add(head)
        self._ident[head] = ident
        self._members[head] = set()
        self._used.add(head)
        return True

    def _drop(self, head: str, *, gone: bool = False) -> None:
        """Stop trusting `head`: its files are stat'ed again, and it is watched anew if needed."""
        for path in self._members.pop(head, ()):
            self.verified.pop(path, None)
        self._ident.pop(head, None)
        wd = self._wd_of.pop(head, None)
        if wd is None:
            return
        heads = self._heads.get(wd)
        if heads is not None:
            heads.discard(head)
            if not heads:
                del self._heads[wd]
                if not gone and self._libc is not None:
                    self._libc.rm_watch(self._fd, wd)  # its IN_IGNORED is then for no one

    def _drain(self) -> bool:
        """Apply the queued events; False when the descriptor cannot be read."""
        for _ in range(_MAX_READS):
            try:
                data = os.read(self._fd, _READ_BYTES)
            except BlockingIOError:
                return True  # the queue is empty
            except OSError as exc:
                log.warning("reading inotify events failed (%s); stat'ing every file", exc)
                return False
            if not data:
                return False
            self._apply(data)
        self._forget_verified()  # more events than one pass should read: trust none of them
        return True

    def _apply(self, data: bytes) -> None:
        """Apply whole events, as read(2) returns them from an inotify descriptor."""
        verified = self.verified
        offset = 0
        while offset + _EVENT.size <= len(data):
            wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
            start = offset + _EVENT.size
            offset = start + length
            if mask & IN_Q_OVERFLOW:  # events were lost: any file may have changed
                self._forget_verified()
                continue
            heads = self._heads.get(wd)
            if not heads:
                continue  # a watch dropped since
            if mask & LOST:
                for head in list(heads):
                    self._drop(head, gone=bool(mask & IN_IGNORED))
                continue
            if length:
                name = os.fsdecode(data[start:offset].split(b"\0", 1)[0])
                for head in heads:
                    verified.pop(f"{head}/{name}", None)

    def _forget_verified(self) -> None:
        self.verified.clear()
        for members in self._members.values():
            members.clear()

    # -- the descriptor ---------------------------------------------------------------------

    def _open(self) -> bool:
        now = _now()
        if self._retry_at is not None and now < self._retry_at:
            return False
        opened = _open_inotify()
        if opened is None:
            self._retry_at = now + FULL_PASS_EVERY_S
            return False
        self._libc, self._fd = opened
        self._pid = os.getpid()
        self._closer = weakref.finalize(self, _close, self._fd)
        self._budget = _watch_budget()
        self._retry_at = None
        self._full_at = None  # nothing verified yet: the first pass stats every file
        return True

    def _reset(self) -> None:
        """The descriptor failed: close it (and every watch with it); open anew next pass."""
        if self._closer is not None:
            self._closer()
        self._fd = -1
        self._clear()

    def _clear(self) -> None:
        self.verified.clear()
        self._wd_of.clear()
        self._heads.clear()
        self._ident.clear()
        self._members.clear()
        self._failed.clear()
        self._used = set()
