/*
 * pier-pty: the program in a session's tmux pane that holds the shell on a pseudo-terminal of its
 * own, so the shell's output reaches Pier as raw bytes at the speed the shell writes them.
 *
 *   pier-pty serve SOCKET SESSION -- COMMAND [ARG...]    the tmux pane's command
 *   pier-pty version                                     prints "pier-pty 1": it runs here
 *
 * serve runs COMMAND on a new pseudo-terminal and
 *   - passes what it reads on its stdin (keys tmux sends to the pane) to COMMAND unchanged;
 *   - connects to Pier's SOCKET (in the pod's read-only services directory), says which SESSION
 *     it holds, and sends COMMAND's output as it comes, in frames; when Pier goes (a restart) it
 *     connects again every 250 ms;
 *   - writes the same output to its stdout, the tmux pane, once the output pauses, so tmux keeps
 *     the screen (for snapshots and restarts) without holding the shell back while it parses;
 *   - passes the pane's size on to COMMAND's terminal when tmux resizes the pane, and tells Pier
 *     the size COMMAND's terminal has now (tmux applies a pane's new size on a timer of its own,
 *     so only this says when keys typed after a resize reach a shell that has the new size).
 * While Pier reads, Pier sets the pace: past 256 KiB waiting for it (or 32 MiB the pane has yet
 * to see) serve stops reading, and COMMAND waits as it would at a slow terminal. While no Pier
 * reads, it keeps the latest 8 MiB for the next one and lets COMMAND run on: tmux's screen still
 * gets every byte.
 *
 * Frames to Pier: a type byte, a big-endian 32-bit length, the payload.
 *   'H' hello, first on every connection: the session id
 *   'O' output bytes
 *   'Y' answer to a sync: everything before it is on tmux's screen, and output is paused
 *   'W' COMMAND's terminal size, 16-bit big-endian columns then rows: after the hello, and
 *       each time the size changes
 * Bytes from Pier:
 *   'S' sync: pause output, bring the pane up to date, answer 'Y'
 *   'P' pause: finish the frame under way, send nothing more, answer 'Y' (a Pier about to stop
 *       has then read all it was sent; what is still queued waits for the next Pier)
 *   'G' go on after a sync or a pause (also after 5 s without it, or when the connection goes)
 *
 * A long run of plain text (no escape sequences, no control characters but tab, CR, LF,
 * backspace and bell) leaves on a screen only its last lines: once tmux's share of a run waits
 * past 2 MiB, all but its last KEEP lines (Pier's snapshot history and twice the screen's height,
 * with room to spare) are left out of what the pane gets. tmux then has the same screen and
 * history for a snapshot, without parsing a 50 MB log it would scroll away; Pier still gets it all.
 *
 * tmux has parsed everything written to the pane once it answers a device status query written
 * after it ("ESC [ 5 n", answered "ESC [ 0 n" on the pane's input, which is taken out here).
 *
 * Static and free of any library beyond libc, so Pier can place it into any Linux image.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (64 * 1024)
#define PIER_CAP_ATTACHED (256 * 1024)   /* small, so Ctrl+C gives the prompt back at once */
#define PIER_CAP_DETACHED (8 * 1024 * 1024)
#define PANE_CAP (32 * 1024 * 1024)
#define PANE_IDLE_MS 25                  /* the pane is written once output has paused this long */
#define SYNC_QUERY_MS 2000
#define SYNC_HOLD_MS 5000
#define DRAIN_AT_EXIT_MS 10000
#define RECONNECT_MS 250

/* Lines of a plain run the pane always gets: Pier's snapshot history (SNAPSHOT_HISTORY, 3000, in screen-capture.ts) and more, plus twice the screen's rows. */
#define KEEP_LINES 3500
#define COMPACT_AT (2 * 1024 * 1024)

static const char DSR_QUERY[] = "\033[5n";
static const char DSR_REPLY[] = "\033[0n";

/* A byte queue: data[start, end) is waiting. */
struct queue {
  char *data;
  size_t start, end, cap;
};

static size_t queued(const struct queue *q) { return q->end - q->start; }

static void push(struct queue *q, const char *bytes, size_t n) {
  /* Moving what waits to the front pays only when that frees at least half the space. */
  if (q->end + n > q->cap && q->start >= q->cap / 2) {
    memmove(q->data, q->data + q->start, queued(q));
    q->end -= q->start;
    q->start = 0;
  }
  if (q->end + n > q->cap) {
    size_t cap = q->cap ? q->cap : CHUNK;
    while (cap < q->end + n) cap *= 2;
    char *grown = realloc(q->data, cap);
    if (!grown) {
      perror("pier-pty: out of memory");
      exit(70);
    }
    q->data = grown;
    q->cap = cap;
  }
  memcpy(q->data + q->end, bytes, n);
  q->end += n;
}

static void consume(struct queue *q, size_t n) {
  q->start += n;
  if (q->start == q->end) q->start = q->end = 0;
}

/*
 * What the pane has yet to get, and where the latest run of plain text in it starts (both as
 * offsets in the shell's output since the holder started).
 */
static struct queue to_pane;
static uint64_t pane_head = 0, pane_plain_from = 0;
static unsigned short pane_rows = 24;

static int plain_byte(unsigned char c) {
  /* 0xC2 opens the UTF-8 form of the C1 controls: taken as not plain, to be safe. */
  return (c >= 0x20 && c != 0xC2) || c == '\t' || c == '\n' || c == '\r' || c == '\b' || c == '\a';
}

static void pane_consume(size_t n) {
  consume(&to_pane, n);
  pane_head += n;
}

/* Leaves out all but the last lines of the plain run at the end of what the pane has yet to get. */
static void pane_compact(void) {
  char *start = to_pane.data + to_pane.start, *end = to_pane.data + to_pane.end;
  char *from = start + (pane_plain_from > pane_head ? pane_plain_from - pane_head : 0);
  char *newline = memchr(from, '\n', (size_t)(end - from));
  if (!newline) return;
  from = newline + 1;
  char *to = end;
  for (int kept = 0; kept < KEEP_LINES + 2 * pane_rows; kept++) {
    newline = memrchr(from, '\n', (size_t)(to - from));
    if (!newline) return;
    to = newline;
  }
  to += 1;
  memmove(from, to, (size_t)(end - to));
  to_pane.end -= (size_t)(to - from);
}

static void pane_push(const char *bytes, size_t n) {
  uint64_t at = pane_head + queued(&to_pane);
  for (size_t i = n; i-- > 0;) {
    if (!plain_byte((unsigned char)bytes[i])) {
      pane_plain_from = at + i + 1;
      break;
    }
  }
  push(&to_pane, bytes, n);
  if (queued(&to_pane) >= COMPACT_AT) pane_compact();
}

static void note_rows(void) {
  struct winsize size;
  if (ioctl(STDIN_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_row > 0) pane_rows = size.ws_row;
}

static int64_t now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

static int socket_address(const char *path, struct sockaddr_un *address) {
  memset(address, 0, sizeof *address);
  address->sun_family = AF_UNIX;
  if (strlen(path) >= sizeof address->sun_path) {
    fprintf(stderr, "pier-pty: the socket path is too long: %s\n", path);
    return -1;
  }
  strcpy(address->sun_path, path);
  return 0;
}

/* A connection to Pier's socket, or -1 (Pier is not there now). */
static int connect_to(const char *path) {
  struct sockaddr_un address;
  if (socket_address(path, &address) < 0) return -1;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, (struct sockaddr *)&address, sizeof address) < 0) {
    close(fd);
    return -1;
  }
  nonblocking(fd);
  return fd;
}

static volatile sig_atomic_t resized = 0, child_gone = 0;
static void on_winch(int sig) { (void)sig; resized = 1; }
static void on_chld(int sig) { (void)sig; child_gone = 1; }

static void copy_size(int from, int to) {
  struct winsize size;
  if (ioctl(from, TIOCGWINSZ, &size) == 0) ioctl(to, TIOCSWINSZ, &size);
}

/* Runs COMMAND on a new pseudo-terminal; returns the master side. */
static int start_command(char **command, pid_t *pid) {
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) return -1;
  char *name = ptsname(master);
  if (!name) return -1;
  copy_size(STDIN_FILENO, master);
  *pid = fork();
  if (*pid < 0) return -1;
  if (*pid == 0) {
    setsid();
    int slave = open(name, O_RDWR);
    if (slave < 0) _exit(126);
    ioctl(slave, TIOCSCTTY, 0);
    dup2(slave, 0);
    dup2(slave, 1);
    dup2(slave, 2);
    if (slave > 2) close(slave);
    signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execvp(command[0], command);
    fprintf(stderr, "pier-pty: cannot run %s: %s\n", command[0], strerror(errno));
    _exit(127);
  }
  return master;
}

enum sync_state { SYNC_NONE, SYNC_FLUSHING, SYNC_QUERIED, SYNC_READY, SYNC_PAUSING, SYNC_HELD };

/*
 * Pier's end: the connection, and the frame being written to it: its header (with the payload of
 * a size frame, which is that short), then `frame_left` bytes of to_pier.
 */
struct pier {
  int fd;
  char header[9];
  size_t header_size, header_left, frame_left;
  /* The size COMMAND's terminal has is yet to be told. */
  int size_untold;
};

static void frame_header(struct pier *pier, char type, size_t length) {
  pier->header[0] = type;
  pier->header[1] = (char)(length >> 24);
  pier->header[2] = (char)(length >> 16);
  pier->header[3] = (char)(length >> 8);
  pier->header[4] = (char)length;
  pier->header_size = pier->header_left = 5;
}

/* A 'W' frame, whole in the header: the size of the terminal behind `master`. */
static void size_frame(struct pier *pier, int master) {
  struct winsize size = {0};
  ioctl(master, TIOCGWINSZ, &size);
  frame_header(pier, 'W', 4);
  pier->header[5] = (char)(size.ws_col >> 8);
  pier->header[6] = (char)size.ws_col;
  pier->header[7] = (char)(size.ws_row >> 8);
  pier->header[8] = (char)size.ws_row;
  pier->header_size = pier->header_left = 9;
  pier->size_untold = 0;
}

static void disconnect(struct pier *pier) {
  close(pier->fd);
  pier->fd = -1;
  /* A frame cut short is not resent: its first bytes went to the Pier that left. */
  pier->header_left = pier->frame_left = 0;
}

/* Writes what it can of the current frame (header and payload in one call); returns -1 when Pier is gone. */
static int send_frame(struct pier *pier, struct queue *to_pier) {
  struct iovec parts[2] = {
    {pier->header + pier->header_size - pier->header_left, pier->header_left},
    {to_pier->data + to_pier->start, pier->frame_left},
  };
  ssize_t n = writev(pier->fd, parts, 2);
  if (n < 0) return errno == EAGAIN || errno == EINTR ? 0 : -1;
  size_t from_header = (size_t)n < pier->header_left ? (size_t)n : pier->header_left;
  pier->header_left -= from_header;
  size_t from_payload = (size_t)n - from_header;
  consume(to_pier, from_payload);
  pier->frame_left -= from_payload;
  return 0;
}

static int serve(const char *path, const char *session, char **command) {
  signal(SIGPIPE, SIG_IGN);
  sigset_t blocked, during_poll;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGWINCH);
  sigaddset(&blocked, SIGCHLD);
  sigprocmask(SIG_BLOCK, &blocked, &during_poll);
  sigdelset(&during_poll, SIGWINCH);
  sigdelset(&during_poll, SIGCHLD);
  struct sigaction action = {0};
  action.sa_handler = on_winch;
  sigaction(SIGWINCH, &action, NULL);
  action.sa_handler = on_chld;
  sigaction(SIGCHLD, &action, NULL);

  pid_t pid;
  int master = start_command(command, &pid);
  if (master < 0) {
    perror("pier-pty: cannot open a terminal");
    return 71;
  }
  /* The pane's terminal passes bytes as they are: keys in, and output already shaped by the shell's own terminal. */
  struct termios raw;
  if (tcgetattr(STDIN_FILENO, &raw) == 0) {
    cfmakeraw(&raw);
    tcsetattr(STDIN_FILENO, TCSANOW, &raw);
  }
  nonblocking(master);
  nonblocking(STDOUT_FILENO);
  note_rows();

  struct queue to_pier = {0}, to_master = {0}, hello = {0};
  push(&hello, session, strlen(session));
  struct pier pier = {-1, {0}, 0, 0, 0, 0};
  enum sync_state sync = SYNC_NONE;
  int64_t sync_deadline = 0, last_output = 0, exit_deadline = 0, next_connect = 0;
  int master_open = 1, status = 0;
  char buffer[CHUNK];

  for (;;) {
    int64_t now = now_ms();
    if (resized) {
      resized = 0;
      copy_size(STDIN_FILENO, master);
      note_rows();
      pier.size_untold = 1;
    }
    if (child_gone) {
      child_gone = 0;
      int s;
      if (waitpid(pid, &s, WNOHANG) == pid) status = WIFEXITED(s) ? WEXITSTATUS(s) : 128 + WTERMSIG(s);
    }
    if (pier.fd < 0 && now >= next_connect) {
      pier.fd = connect_to(path);
      next_connect = now + RECONNECT_MS;
      if (pier.fd >= 0) {
        /* Hello first: the session id, written whole (a fresh socket has room for it). */
        frame_header(&pier, 'H', queued(&hello));
        struct iovec parts[2] = {{pier.header, 5}, {hello.data, queued(&hello)}};
        if (writev(pier.fd, parts, 2) != (ssize_t)(5 + queued(&hello))) disconnect(&pier);
        pier.header_left = 0;
        /* A new Pier learns the size at once (and that this holder tells it). */
        pier.size_untold = 1;
        if (sync != SYNC_NONE) sync = SYNC_NONE;
      }
    }
    if (sync == SYNC_FLUSHING && queued(&to_pane) == 0) {
      pane_push(DSR_QUERY, sizeof DSR_QUERY - 1);
      sync = SYNC_QUERIED;
      sync_deadline = now + SYNC_QUERY_MS;
    }
    if (sync == SYNC_QUERIED && now >= sync_deadline) sync = SYNC_READY;
    if (sync == SYNC_READY && pier.fd >= 0 && queued(&to_pier) == 0 && pier.header_left == 0 && pier.frame_left == 0) {
      frame_header(&pier, 'Y', 0);
      sync = SYNC_HELD;
      sync_deadline = now + SYNC_HOLD_MS;
    }
    if (sync == SYNC_PAUSING && pier.fd >= 0 && pier.header_left == 0 && pier.frame_left == 0) {
      frame_header(&pier, 'Y', 0);
      sync = SYNC_HELD;
      sync_deadline = now + SYNC_HOLD_MS;
    }
    if (sync == SYNC_HELD && now >= sync_deadline) sync = SYNC_NONE;
    int all_out = queued(&to_pane) == 0 && (pier.fd < 0 || (queued(&to_pier) == 0 && pier.header_left == 0 && pier.frame_left == 0));
    if (!master_open && (all_out || now >= exit_deadline)) break;

    int read_master = master_open && sync == SYNC_NONE && (pier.fd < 0 || queued(&to_pier) < PIER_CAP_ATTACHED) &&
                      queued(&to_pane) < PANE_CAP;
    int feed_pane = queued(&to_pane) > 0 && (sync != SYNC_NONE || !master_open || now >= last_output + PANE_IDLE_MS ||
                                             queued(&to_pane) >= PANE_CAP / 2);
    if (pier.fd >= 0 && pier.header_left == 0 && pier.frame_left == 0 && pier.size_untold) size_frame(&pier, master);
    int frames_go = sync != SYNC_PAUSING && sync != SYNC_HELD;
    if (frames_go && pier.fd >= 0 && pier.header_left == 0 && pier.frame_left == 0 && queued(&to_pier) > 0) {
      size_t length = queued(&to_pier) < CHUNK ? queued(&to_pier) : CHUNK;
      frame_header(&pier, 'O', length);
      pier.frame_left = length;
    }

    struct pollfd fds[4] = {
      {STDIN_FILENO, POLLIN, 0},
      {read_master || queued(&to_master) ? master : -1, (short)((read_master ? POLLIN : 0) | (queued(&to_master) ? POLLOUT : 0)), 0},
      {feed_pane ? STDOUT_FILENO : -1, POLLOUT, 0},
      {pier.fd, (short)(POLLIN | (pier.header_left || pier.frame_left ? POLLOUT : 0)), 0},
    };
    /* When to wake without an event: the first of these that applies (none: wait for an event). */
    int64_t wake = INT64_MAX;
    if (queued(&to_pane) > 0 && !feed_pane) wake = last_output + PANE_IDLE_MS;
    if ((sync == SYNC_QUERIED || sync == SYNC_HELD) && sync_deadline < wake) wake = sync_deadline;
    if (pier.fd < 0 && next_connect < wake) wake = next_connect;
    if (!master_open && now + 50 < wake) wake = now + 50;
    int64_t left = wake == INT64_MAX ? 0 : (wake > now ? wake - now : 0);
    struct timespec wait = {(time_t)(left / 1000), (long)(left % 1000) * 1000000L};
    if (ppoll(fds, 4, wake == INT64_MAX ? NULL : &wait, &during_poll) < 0) {
      if (errno == EINTR) continue;
      perror("pier-pty: poll");
      return 70;
    }

    /* Keys from tmux, less the answer to our own status query. */
    if (fds[0].revents & (POLLIN | POLLHUP)) {
      ssize_t n = read(STDIN_FILENO, buffer, sizeof buffer);
      if (n > 0) {
        size_t length = (size_t)n;
        if (sync == SYNC_QUERIED) {
          char *reply = memmem(buffer, length, DSR_REPLY, sizeof DSR_REPLY - 1);
          if (reply) {
            size_t at = (size_t)(reply - buffer), skip = sizeof DSR_REPLY - 1;
            memmove(reply, reply + skip, length - at - skip);
            length -= skip;
            sync = SYNC_READY;
          }
        }
        if (master_open) push(&to_master, buffer, length);
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        /* The pane is gone (tmux killed it): the shell goes with it, as it would in tmux. */
        kill(-pid, SIGHUP);
        break;
      }
    }
    if (fds[1].revents & POLLOUT) {
      ssize_t n = write(master, to_master.data + to_master.start, queued(&to_master));
      if (n > 0) consume(&to_master, (size_t)n);
    }
    if (read_master && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      /* What the shell has written so far, in one frame where it can: a few reads while there is more. */
      for (int reads = 0; reads < 4; reads++) {
        ssize_t n = read(master, buffer, sizeof buffer);
        if (n > 0) {
          push(&to_pier, buffer, (size_t)n);
          if (pier.fd < 0 && queued(&to_pier) > PIER_CAP_DETACHED) consume(&to_pier, queued(&to_pier) - PIER_CAP_DETACHED);
          pane_push(buffer, (size_t)n);
          last_output = now_ms();
          if ((size_t)n < sizeof buffer / 2) break;
        } else {
          if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            /* Every process holding the terminal has gone: what is queued still goes out. */
            master_open = 0;
            exit_deadline = now_ms() + DRAIN_AT_EXIT_MS;
          }
          break;
        }
      }
    }
    if (fds[2].revents & (POLLOUT | POLLERR | POLLHUP)) {
      ssize_t n = write(STDOUT_FILENO, to_pane.data + to_pane.start, queued(&to_pane));
      if (n > 0) pane_consume((size_t)n);
      else if (n < 0 && errno != EAGAIN && errno != EINTR) pane_consume(queued(&to_pane));
    }
    if (pier.fd >= 0 && fds[3].revents) {
      int gone = 0;
      if (fds[3].revents & POLLIN) {
        char commands[64];
        ssize_t n = read(pier.fd, commands, sizeof commands);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) gone = 1;
        for (ssize_t i = 0; i < n; i++) {
          if (commands[i] == 'S' && sync == SYNC_NONE) sync = SYNC_FLUSHING;
          if (commands[i] == 'P' && sync == SYNC_NONE) sync = SYNC_PAUSING;
          if (commands[i] == 'G' && sync == SYNC_HELD) sync = SYNC_NONE;
        }
      }
      if (!gone && (fds[3].revents & POLLOUT) && send_frame(&pier, &to_pier) < 0) gone = 1;
      if (gone || ((fds[3].revents & (POLLHUP | POLLERR)) && !(fds[3].revents & POLLIN))) {
        disconnect(&pier);
        next_connect = now_ms() + RECONNECT_MS;
        if (sync != SYNC_NONE) sync = SYNC_NONE;
      }
    }
  }
  if (pier.fd >= 0) close(pier.fd);
  return status;
}

int main(int argc, char **argv) {
  if (argc >= 6 && strcmp(argv[1], "serve") == 0 && strcmp(argv[4], "--") == 0) return serve(argv[2], argv[3], argv + 5);
  if (argc == 2 && strcmp(argv[1], "version") == 0) return puts("pier-pty 1") == EOF;
  fprintf(stderr, "usage: pier-pty serve SOCKET SESSION -- COMMAND [ARG...]\n       pier-pty version\n");
  return 2;
}
