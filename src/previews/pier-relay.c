/*
 * pier-relay: the program in a pod that carries previews' TCP connections between Pier and the
 * servers listening inside the pod, which may have no network at all (pods run with network
 * `none` where Pier is told so). One per pod, started by Pier through the runtime.
 *
 *   pier-relay start SOCKET    starts the relay in the background (and exits 0 at once)
 *   pier-relay version         prints "pier-relay 1": it runs here
 *   pier-relay splice          on the server, never in a pod: carries one large answer to a
 *                              browser for Pier (see splice_answer below)
 *
 * The relay always dials Pier, never the other way round: SOCKET is in the pod's services
 * directory, which the pod sees read-only, and Pier never connects to a path the pod can write.
 *
 * Control connection (the relay's first connection to SOCKET), in frames of a type byte, a
 * big-endian 32-bit length and the payload:
 *   relay -> Pier  'H' "pier-relay 1", first
 *                  'L' the listening TCP ports, after the hello and whenever they change: a line
 *                      "port\taddress\tpid\tsession\tname\n" per listening socket (pid, the
 *                      PIER_SESSION_ID of its process and its name empty where not known)
 *                  'F' id(16) then "refused", "timeout", "busy" or "unreachable <why>": that
 *                      open failed
 *   Pier -> relay  'C' id(16) then a big-endian 16-bit port: open a connection to that port
 *                  'X' exit (Pier has another relay of this pod, or this one is outdated)
 * Data connection (one per open): once 127.0.0.1:port (or where the port listens) has accepted,
 * the relay connects to SOCKET again, sends 'D' with the open's id as its payload, and from then
 * on passes raw bytes both ways; an end of input on either side is passed on as a shutdown of
 * writing on the other (half-close), and the pair is closed once both directions have ended.
 *
 * One Unix connection per TCP connection, not multiplexed on the control connection: each stream
 * has the kernel's own flow control, so a large download never holds back another connection.
 * Each direction's bytes wait in a kernel pipe (64 KiB) and are moved with splice(2), never
 * copied through the relay's own memory (a quarter less CPU per byte than read and write), and a
 * side is read only while its pipe has room, so a pod's relay holds at most MAX_PAIRS * 128 KiB
 * (16 MiB) in flight.
 *
 * Every SCAN_MS while Pier is connected the relay reads /proc/net/tcp and tcp6 (microseconds);
 * only when the set of listening sockets changed does it walk /proc/<pid>/fd to learn which
 * process holds each (processes of another user stay unknown).
 *
 * While Pier is gone (a restart) it connects again every RECONNECT_MS; the connections under way
 * go on meanwhile. Static and free of any library beyond libc, like pier-pty, so Pier can place it
 * into any Linux image of the server's machine type.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define VERSION_LINE "pier-relay 1"
#define MAX_PAIRS 128
/* The most one direction of a pair holds: a pipe's usual size, which it is asked for. */
#define BUFFER (64 * 1024)
#define RECONNECT_MS 250
#define SCAN_MS 1000
/* Below Pier's own 5 s wait for an open, so Pier hears why rather than only that it timed out. */
#define CONNECT_TIMEOUT_MS 4000
#define MAX_LISTED 512
#define LIST_MAX (64 * 1024)
/* What may wait for Pier on the control connection before it is taken for gone. */
#define CONTROL_QUEUE_MAX (1024 * 1024)
#define ID 16
#define HEADER 5

static int64_t now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static struct sockaddr_un pier_address;

/* A new connection to Pier's socket, or -1 (Pier is not there now, or its backlog is full). */
static int connect_to_pier(void) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  if (connect(fd, (struct sockaddr *)&pier_address, sizeof pier_address) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static void put_header(unsigned char *at, char type, size_t length) {
  at[0] = (unsigned char)type;
  at[1] = (unsigned char)(length >> 24);
  at[2] = (unsigned char)(length >> 16);
  at[3] = (unsigned char)(length >> 8);
  at[4] = (unsigned char)length;
}

/* ---- the listening sockets, from /proc ---- */

struct listening {
  uint16_t port;
  int family;
  unsigned char address[16];
  unsigned long inode;
  long pid; /* 0: not known */
  char session[65];
  char name[17];
};

static struct listening listed[MAX_LISTED];
static int listed_count = 0;

/* One /proc/net/tcp{,6} file's listening sockets, added to `into` (up to MAX_LISTED in all). */
static void read_proc_net(const char *path, int family, struct listening *into, int *count) {
  FILE *file = fopen(path, "re");
  if (!file) return;
  char line[512];
  if (!fgets(line, sizeof line, file)) {
    fclose(file);
    return;
  }
  while (*count < MAX_LISTED && fgets(line, sizeof line, file)) {
    char local[33];
    unsigned int port, state;
    unsigned long inode;
    if (sscanf(line, " %*u: %32[0-9A-Fa-f]:%x %*32[0-9A-Fa-f]:%*x %x %*x:%*x %*x:%*x %*x %*u %*u %lu", local, &port, &state, &inode) != 4) continue;
    /* 0A is TCP_LISTEN. */
    if (state != 0x0A || port == 0 || port > 65535) continue;
    size_t hex = strlen(local);
    if (hex != (family == AF_INET ? 8u : 32u)) continue;
    struct listening *entry = &into[*count];
    memset(entry, 0, sizeof *entry);
    entry->port = (uint16_t)port;
    entry->family = family;
    entry->inode = inode;
    /* The kernel prints each 32-bit word of the address as a number in host byte order. */
    for (size_t word = 0; word < hex / 8; word++) {
      char digits[9];
      memcpy(digits, local + word * 8, 8);
      digits[8] = '\0';
      uint32_t value = (uint32_t)strtoul(digits, NULL, 16);
      memcpy(entry->address + word * 4, &value, 4);
    }
    (*count)++;
  }
  fclose(file);
}

static int scan_sockets(struct listening *into) {
  int count = 0;
  read_proc_net("/proc/net/tcp", AF_INET, into, &count);
  read_proc_net("/proc/net/tcp6", AF_INET6, into, &count);
  return count;
}

static int same_sockets(const struct listening *a, int a_count, const struct listening *b, int b_count) {
  if (a_count != b_count) return 0;
  for (int i = 0; i < a_count; i++) {
    if (a[i].port != b[i].port || a[i].family != b[i].family || a[i].inode != b[i].inode || memcmp(a[i].address, b[i].address, 16) != 0) return 0;
  }
  return 1;
}

/* The file's first `cap - 1` bytes (NUL added); its length, or -1. */
static ssize_t read_small(const char *path, char *into, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t length = 0;
  while (length + 1 < cap) {
    ssize_t n = read(fd, into + length, cap - 1 - length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    length += (size_t)n;
  }
  close(fd);
  into[length] = '\0';
  return (ssize_t)length;
}

/* The process's PIER_SESSION_ID when it is a session id (lowercase letters and digits), and its name, shown plainly. */
static void describe_process(long pid, struct listening *entry) {
  static char environ_text[256 * 1024];
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/environ", pid);
  ssize_t length = read_small(path, environ_text, sizeof environ_text);
  for (ssize_t at = 0; at < length; at += (ssize_t)strlen(environ_text + at) + 1) {
    static const char key[] = "PIER_SESSION_ID=";
    if (strncmp(environ_text + at, key, sizeof key - 1) != 0) continue;
    const char *value = environ_text + at + sizeof key - 1;
    size_t n = strlen(value);
    int plain = n > 0 && n < sizeof entry->session;
    for (size_t i = 0; plain && i < n; i++) plain = (value[i] >= 'a' && value[i] <= 'z') || (value[i] >= '0' && value[i] <= '9');
    if (plain) memcpy(entry->session, value, n + 1);
    break;
  }
  char name[64];
  snprintf(path, sizeof path, "/proc/%ld/comm", pid);
  if (read_small(path, name, sizeof name) <= 0) return;
  size_t n = 0;
  for (const char *c = name; *c && *c != '\n' && n + 1 < sizeof entry->name; c++) {
    entry->name[n++] = (*c >= 0x20 && *c < 0x7f && *c != '\\') ? *c : '?';
  }
  entry->name[n] = '\0';
}

/* Which process holds each listening socket: the first whose descriptors it is among. */
static void find_processes(void) {
  DIR *proc = opendir("/proc");
  if (!proc) return;
  int left = listed_count;
  struct dirent *process;
  while (left > 0 && (process = readdir(proc))) {
    if (!isdigit((unsigned char)process->d_name[0])) continue;
    long pid = strtol(process->d_name, NULL, 10);
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/fd", pid);
    DIR *fds = opendir(path);
    if (!fds) continue;
    struct dirent *fd;
    while ((fd = readdir(fds))) {
      if (fd->d_name[0] == '.') continue;
      char target[64];
      ssize_t n = readlinkat(dirfd(fds), fd->d_name, target, sizeof target - 1);
      if (n <= 8 || strncmp(target, "socket:[", 8) != 0) continue;
      target[n] = '\0';
      unsigned long inode = strtoul(target + 8, NULL, 10);
      for (int i = 0; i < listed_count; i++) {
        if (listed[i].inode != inode || listed[i].pid != 0) continue;
        listed[i].pid = pid;
        describe_process(pid, &listed[i]);
        left--;
      }
    }
    closedir(fds);
  }
  closedir(proc);
}

/* Reads the listening sockets again; returns 1 when they changed (and learns their processes then). */
static int rescan(void) {
  static struct listening found[MAX_LISTED];
  int count = scan_sockets(found);
  if (same_sockets(found, count, listed, listed_count)) return 0;
  memcpy(listed, found, sizeof found[0] * (size_t)count);
  listed_count = count;
  find_processes();
  return 1;
}

/* The 'L' payload: a line per listening socket, as long as it fits in LIST_MAX. */
static size_t list_payload(char *into) {
  size_t length = 0;
  for (int i = 0; i < listed_count; i++) {
    const struct listening *entry = &listed[i];
    char address[INET6_ADDRSTRLEN], pid[24] = "", line[256];
    inet_ntop(entry->family, entry->address, address, sizeof address);
    if (entry->pid) snprintf(pid, sizeof pid, "%ld", entry->pid);
    int n = snprintf(line, sizeof line, "%u\t%s\t%s\t%s\t%s\n", entry->port, address, pid, entry->session, entry->name);
    if (n < 0 || (size_t)n >= sizeof line || length + (size_t)n > LIST_MAX) break;
    memcpy(into + length, line, (size_t)n);
    length += (size_t)n;
  }
  return length;
}

/* Where a connection to a port is tried, in turn. */
#define MAX_CANDIDATES 3
struct candidates {
  struct sockaddr_storage address[MAX_CANDIDATES];
  socklen_t size[MAX_CANDIDATES];
  int count;
};

static void add_candidate(struct candidates *into, int family, const void *address, uint16_t port) {
  for (int i = 0; i < into->count; i++) {
    if (into->address[i].ss_family != family) continue;
    if (family == AF_INET && memcmp(&((struct sockaddr_in *)&into->address[i])->sin_addr, address, 4) == 0) return;
    if (family == AF_INET6 && memcmp(&((struct sockaddr_in6 *)&into->address[i])->sin6_addr, address, 16) == 0) return;
  }
  struct sockaddr_storage *to = &into->address[into->count];
  memset(to, 0, sizeof *to);
  if (family == AF_INET) {
    struct sockaddr_in *v4 = (struct sockaddr_in *)to;
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    memcpy(&v4->sin_addr, address, 4);
    into->size[into->count++] = sizeof *v4;
  } else {
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)to;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    memcpy(&v6->sin6_addr, address, 16);
    into->size[into->count++] = sizeof *v6;
  }
}

static int wildcard(const struct listening *entry) {
  static const unsigned char any[16] = {0};
  return memcmp(entry->address, any, entry->family == AF_INET ? 4 : 16) == 0;
}

/*
 * Where to try `port` in the pod, from where the latest scan saw it listen: a wildcard address as
 * loopback, anything else as it is (it is the pod's own). A listener on `::` is tried at
 * 127.0.0.1 first: it takes IPv4 too (unless IPV6_V6ONLY), and Docker turns IPv6 off in pods
 * without an IPv6 network, where ::1 does not exist (Node and Bun listen on `::` by default).
 * Where nothing was seen, 127.0.0.1: it is then refused, which is the answer. Returns whether
 * the port was seen.
 */
static int dial_candidates(uint16_t port, struct candidates *into) {
  const struct listening *v4 = NULL, *v6 = NULL;
  for (int i = 0; i < listed_count; i++) {
    const struct listening *entry = &listed[i];
    if (entry->port != port) continue;
    const struct listening **best = entry->family == AF_INET ? &v4 : &v6;
    if (!*best || (wildcard(entry) && !wildcard(*best))) *best = entry;
  }
  const uint32_t loopback4 = htonl(INADDR_LOOPBACK);
  into->count = 0;
  if (v4) add_candidate(into, AF_INET, wildcard(v4) ? (const void *)&loopback4 : v4->address, port);
  if (v6 && wildcard(v6)) {
    add_candidate(into, AF_INET, &loopback4, port);
    add_candidate(into, AF_INET6, &in6addr_loopback, port);
  } else if (v6) {
    add_candidate(into, AF_INET6, v6->address, port);
  }
  if (into->count == 0) add_candidate(into, AF_INET, &loopback4, port);
  return v4 || v6;
}

/* ---- the control connection ---- */

struct control {
  int fd;
  unsigned char *out;
  size_t out_start, out_end, out_cap;
  unsigned char in[HEADER + ID + 2];
  size_t in_fill;
  /* The last list sent on this connection, to send only changes. */
  char *sent_list;
  size_t sent_list_length;
  int list_sent;
};

static struct control control = {-1, NULL, 0, 0, 0, {0}, 0, NULL, 0, 0};

static void control_close(void) {
  if (control.fd >= 0) close(control.fd);
  control.fd = -1;
  control.out_start = control.out_end = 0;
  control.in_fill = 0;
  control.list_sent = 0;
}

/* Queues a frame for Pier; a Pier that has let CONTROL_QUEUE_MAX pile up is taken for gone. */
static void control_send(char type, const void *a, size_t a_length, const void *b, size_t b_length) {
  if (control.fd < 0) return;
  size_t length = HEADER + a_length + b_length;
  if (control.out_end - control.out_start + length > CONTROL_QUEUE_MAX) {
    control_close();
    return;
  }
  if (control.out_end + length > control.out_cap && control.out_start > 0) {
    memmove(control.out, control.out + control.out_start, control.out_end - control.out_start);
    control.out_end -= control.out_start;
    control.out_start = 0;
  }
  if (control.out_end + length > control.out_cap) {
    size_t cap = control.out_cap ? control.out_cap : 64 * 1024;
    while (cap < control.out_end + length) cap *= 2;
    unsigned char *grown = realloc(control.out, cap);
    if (!grown) {
      control_close();
      return;
    }
    control.out = grown;
    control.out_cap = cap;
  }
  put_header(control.out + control.out_end, type, a_length + b_length);
  if (a_length) memcpy(control.out + control.out_end + HEADER, a, a_length);
  if (b_length) memcpy(control.out + control.out_end + HEADER + a_length, b, b_length);
  control.out_end += length;
}

static void send_list_if_changed(void) {
  static char payload[LIST_MAX];
  size_t length = list_payload(payload);
  if (control.list_sent && length == control.sent_list_length && memcmp(payload, control.sent_list, length) == 0) return;
  char *copy = realloc(control.sent_list, length ? length : 1);
  if (!copy) return;
  memcpy(copy, payload, length);
  control.sent_list = copy;
  control.sent_list_length = length;
  control.list_sent = 1;
  control_send('L', payload, length, NULL, 0);
}

static void refuse_open(const unsigned char *id, const char *why) { control_send('F', id, ID, why, strlen(why)); }

/* ---- the pairs: a TCP connection in the pod and its data connection to Pier ---- */

struct half {
  int pipe[2];     /* the bytes on their way: read end, write end */
  size_t capacity; /* what the pipe takes (at most BUFFER) */
  size_t held;     /* bytes in it */
  int full;        /* it took no more while holding some: read again once some went out */
  int ended;       /* its source has ended */
  int shutdown;    /* and that has been passed on */
};

struct pair {
  int used;
  int dialling;
  unsigned char id[ID];
  int app;
  int pier;
  int64_t deadline;
  /* While dialling: where to try, the next one to try, and whether any refused. */
  struct candidates candidates;
  int next_candidate;
  int refused;
  int error;
  struct half to_pier, to_app;
};

static struct pair pairs[MAX_PAIRS];

/* A free pair, every descriptor of it closed (-1). */
static void pair_reset(struct pair *pair) {
  memset(pair, 0, sizeof *pair);
  pair->app = pair->pier = -1;
  pair->to_pier.pipe[0] = pair->to_pier.pipe[1] = pair->to_app.pipe[0] = pair->to_app.pipe[1] = -1;
}

static void pair_close(struct pair *pair) {
  int fds[] = {pair->app, pair->pier, pair->to_pier.pipe[0], pair->to_pier.pipe[1], pair->to_app.pipe[0], pair->to_app.pipe[1]};
  for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
    if (fds[i] >= 0) close(fds[i]);
  }
  pair_reset(pair);
}

/* The half's pipe, at most BUFFER big (a pipe may be smaller where the pod user's pipes already hold much); 0 when it cannot be had. */
static int half_open(struct half *half) {
  if (pipe2(half->pipe, O_CLOEXEC | O_NONBLOCK) < 0) return 0;
  fcntl(half->pipe[1], F_SETPIPE_SZ, BUFFER);
  int size = fcntl(half->pipe[1], F_GETPIPE_SZ);
  if (size <= 0) return 0;
  half->capacity = (size_t)size < BUFFER ? (size_t)size : BUFFER;
  return 1;
}

/* Tells Pier why the open failed: refused if any address refused it (nothing listens), else the last error. */
static void dial_failed(struct pair *pair) {
  char why[160];
  if (pair->refused) snprintf(why, sizeof why, "refused");
  else snprintf(why, sizeof why, "unreachable %s", strerror(pair->error));
  refuse_open(pair->id, why);
  pair_close(pair);
}

static void note_failure(struct pair *pair, int error) {
  if (error == ECONNREFUSED) pair->refused = 1;
  pair->error = error;
}

/* Connects to the pair's next candidate address (closing the last try); fails the open when none is left. */
static void dial_next(struct pair *pair) {
  while (pair->next_candidate < pair->candidates.count) {
    int at = pair->next_candidate++;
    if (pair->app >= 0) close(pair->app);
    pair->app = socket(pair->candidates.address[at].ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (pair->app < 0) {
      note_failure(pair, errno);
      continue;
    }
    if (connect(pair->app, (struct sockaddr *)&pair->candidates.address[at], pair->candidates.size[at]) == 0 || errno == EINPROGRESS) return;
    note_failure(pair, errno);
  }
  dial_failed(pair);
}

static void open_connection(const unsigned char *id, uint16_t port) {
  struct pair *pair = NULL;
  for (int i = 0; i < MAX_PAIRS && !pair; i++) {
    if (!pairs[i].used) pair = &pairs[i];
  }
  if (!pair) return refuse_open(id, "busy");
  if (port == 0) return refuse_open(id, "refused");
  pair->used = 1;
  pair->dialling = 1;
  memcpy(pair->id, id, ID);
  pair->app = pair->pier = -1;
  pair->deadline = now_ms() + CONNECT_TIMEOUT_MS;
  /* A server that began listening since the last scan: reading /proc/net again costs microseconds. */
  if (!dial_candidates(port, &pair->candidates) && rescan()) dial_candidates(port, &pair->candidates);
  dial_next(pair);
}

/* The TCP connection is made (or not): connect to Pier for the data, say which open it is, and start passing bytes. */
static void dialled(struct pair *pair) {
  int error = 0;
  socklen_t size = sizeof error;
  getsockopt(pair->app, SOL_SOCKET, SO_ERROR, &error, &size);
  if (error) {
    note_failure(pair, error);
    return dial_next(pair);
  }
  unsigned char hello[HEADER + ID];
  put_header(hello, 'D', ID);
  memcpy(hello + HEADER, pair->id, ID);
  int piped = half_open(&pair->to_pier) && half_open(&pair->to_app);
  pair->pier = connect_to_pier();
  /* A fresh connection has room for the 21 bytes. */
  if (!piped || pair->pier < 0 || write(pair->pier, hello, sizeof hello) != (ssize_t)sizeof hello) {
    refuse_open(pair->id, "unreachable Pier's socket did not take the connection");
    return pair_close(pair);
  }
  pair->dialling = 0;
}

/* Moves from `from` into `half`'s pipe what fits; 0 when all is well, -1 when the pair must close. */
static int fill(int from, struct half *half) {
  if (half->held >= half->capacity) return 0;
  ssize_t n = splice(from, NULL, half->pipe[1], NULL, half->capacity - half->held, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
  if (n > 0) half->held += (size_t)n;
  else if (n == 0) half->ended = 1;
  /* A pipe counts pages, not bytes: one holding small pieces is full below its capacity. Waiting
     for the socket again would wake at once and find it still full, so wait for the other side. */
  else if (errno == EAGAIN && half->held > 0) half->full = 1;
  else if (errno != EAGAIN && errno != EINTR) return -1;
  return 0;
}

/* Writes what `half` holds to `to`, and passes its end on once it is all out. */
static int drain(int to, struct half *half) {
  if (half->held > 0) {
    ssize_t n = splice(half->pipe[0], NULL, to, NULL, half->held, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) {
      half->held -= (size_t)n;
      half->full = 0;
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return -1;
    }
  }
  if (half->ended && !half->shutdown && half->held == 0) {
    shutdown(to, SHUT_WR);
    half->shutdown = 1;
  }
  return 0;
}

/* What `fd` waits for in this pair: reading while its pipe has room, writing while the other has bytes for it. */
static short wanted(const struct half *incoming, const struct half *outgoing) {
  short events = 0;
  if (!incoming->ended && !incoming->full && incoming->held < incoming->capacity) events |= POLLIN;
  if (outgoing->held > 0) events |= POLLOUT;
  return events;
}

/* ---- the daemon ---- */

static void handle_frame(unsigned char type, const unsigned char *payload, size_t length) {
  if (type == 'X') exit(0);
  if (type == 'C' && length == ID + 2) open_connection(payload, (uint16_t)((payload[ID] << 8) | payload[ID + 1]));
}

/*
 * Reads Pier's frames, never past the one under way: only 'C' and 'X' of their own lengths, which
 * fit the small buffer; anything else is not Pier talking, and the connection is closed.
 */
static void read_control(void) {
  while (control.fd >= 0) {
    size_t need = HEADER;
    if (control.in_fill >= HEADER) {
      unsigned char type = control.in[0];
      uint32_t length = ((uint32_t)control.in[1] << 24) | ((uint32_t)control.in[2] << 16) | ((uint32_t)control.in[3] << 8) | control.in[4];
      if (!((type == 'C' && length == ID + 2) || (type == 'X' && length == 0))) return control_close();
      need = HEADER + length;
      if (control.in_fill == need) {
        control.in_fill = 0;
        handle_frame(type, control.in + HEADER, length);
        continue;
      }
    }
    ssize_t n = read(control.fd, control.in + control.in_fill, need - control.in_fill);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) return control_close();
    control.in_fill += (size_t)n;
  }
}

static void write_control(void) {
  ssize_t n = write(control.fd, control.out + control.out_start, control.out_end - control.out_start);
  if (n > 0) control.out_start += (size_t)n;
  else if (n < 0 && errno != EAGAIN && errno != EINTR) control_close();
  if (control.out_start == control.out_end) control.out_start = control.out_end = 0;
}

static int relay(void) {
  signal(SIGPIPE, SIG_IGN);
  for (int i = 0; i < MAX_PAIRS; i++) pair_reset(&pairs[i]);
  int64_t next_connect = 0, next_scan = 0;
  /* The control connection, then each pair's two descriptors. */
  struct pollfd fds[1 + 2 * MAX_PAIRS];

  for (;;) {
    int64_t now = now_ms();
    if (control.fd < 0 && now >= next_connect) {
      next_connect = now + RECONNECT_MS;
      control.fd = connect_to_pier();
      if (control.fd >= 0) {
        control_send('H', VERSION_LINE, sizeof VERSION_LINE - 1, NULL, 0);
        next_scan = now;
      }
    }
    if (control.fd >= 0 && now >= next_scan) {
      rescan();
      send_list_if_changed();
      next_scan = now + SCAN_MS;
    }
    int64_t wake = control.fd < 0 ? next_connect : next_scan;
    for (int i = 0; i < MAX_PAIRS; i++) {
      struct pair *pair = &pairs[i];
      if (!pair->used || !pair->dialling) continue;
      if (now >= pair->deadline) {
        refuse_open(pair->id, "timeout");
        pair_close(pair);
      } else if (pair->deadline < wake) {
        wake = pair->deadline;
      }
    }

    fds[0].fd = control.fd;
    fds[0].events = (short)(POLLIN | (control.out_end > control.out_start ? POLLOUT : 0));
    for (int i = 0; i < MAX_PAIRS; i++) {
      struct pair *pair = &pairs[i];
      struct pollfd *app = &fds[1 + 2 * i], *pier = &fds[2 + 2 * i];
      app->fd = pier->fd = -1;
      app->revents = pier->revents = 0;
      if (!pair->used) continue;
      if (pair->dialling) {
        app->fd = pair->app;
        app->events = POLLOUT;
        continue;
      }
      app->events = wanted(&pair->to_pier, &pair->to_app);
      pier->events = wanted(&pair->to_app, &pair->to_pier);
      /* Nothing wanted: left out, so a hang-up it cannot act on yet does not wake the loop again and again. */
      app->fd = app->events ? pair->app : -1;
      pier->fd = pier->events ? pair->pier : -1;
    }
    int timeout = wake > now ? (int)(wake - now) : 0;
    if (poll(fds, 1 + 2 * MAX_PAIRS, timeout) < 0) {
      if (errno == EINTR) continue;
      return 70;
    }

    if (control.fd >= 0 && fds[0].revents) {
      if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) read_control();
      if (control.fd >= 0 && (fds[0].revents & POLLOUT)) write_control();
      if (control.fd < 0) next_connect = now_ms() + RECONNECT_MS;
    }
    for (int i = 0; i < MAX_PAIRS; i++) {
      struct pair *pair = &pairs[i];
      short app = fds[1 + 2 * i].revents, pier = fds[2 + 2 * i].revents;
      if (!pair->used || !(app | pier)) continue;
      if (pair->dialling) {
        dialled(pair);
        continue;
      }
      int broken = 0;
      if (app & (POLLIN | POLLHUP | POLLERR)) broken |= fill(pair->app, &pair->to_pier);
      if (pier & (POLLIN | POLLHUP | POLLERR)) broken |= fill(pair->pier, &pair->to_app);
      /* Written at once, not at the next wake: most reads can go straight out. */
      if (!broken) broken |= drain(pair->pier, &pair->to_pier);
      if (!broken) broken |= drain(pair->app, &pair->to_app);
      if (broken || (pair->to_pier.shutdown && pair->to_app.shutdown)) pair_close(pair);
    }
  }
}

/* ---- on the server: one answer carried to a browser for Pier ---- */

/*
 * `pier-relay splice`, run by Pier on the server (outside every pod) for one large answer it has
 * begun: fd 0 is a pipe of the bytes Pier already holds (the answer's head as the browser is to
 * see it, then whatever of the body Pier had read), fd 3 the browser's TCP connection and fd 4
 * the stream from the app (the pod's relay's data connection, or the app's own socket on the
 * local runtime), both given by Pier as it starts this process and closed on its side at once.
 * Writes fd 0's bytes to the browser, then moves the app's bytes to it with splice(2) until the
 * app's stream ends, and says on fd 1 how many bytes went to the browser. Exits 0 when all went,
 * 1 when either connection failed (the browser went away). Pier cuts a viewer off by killing it.
 */
static int write_all(int fd, const char *at, size_t length) {
  while (length > 0) {
    ssize_t n = write(fd, at, length);
    if (n > 0) {
      at += n;
      length -= (size_t)n;
    } else if (n < 0 && errno == EAGAIN) {
      struct pollfd out = {fd, POLLOUT, 0};
      poll(&out, 1, -1);
    } else if (!(n < 0 && errno == EINTR)) {
      return -1;
    }
  }
  return 0;
}

static int carry_answer(unsigned long long *sent) {
  const int from_pier = 0, browser = 3, app = 4;
  char buffer[BUFFER];
  for (;;) {
    ssize_t n = read(from_pier, buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || write_all(browser, buffer, (size_t)n) < 0) return 1;
    *sent += (unsigned long long)n;
  }
  struct half answer;
  memset(&answer, 0, sizeof answer);
  if (!half_open(&answer)) return 1;
  /* The connections' descriptions were Pier's: they may be nonblocking, so every move waits in poll. */
  while (!answer.shutdown) {
    struct pollfd fds[2] = {{app, 0, 0}, {browser, 0, 0}};
    fds[0].events = answer.ended || answer.full || answer.held >= answer.capacity ? 0 : POLLIN;
    fds[1].events = answer.held > 0 ? POLLOUT : 0;
    if (fds[0].events == 0) fds[0].fd = -1;
    if (poll(fds, 2, -1) < 0 && errno != EINTR) return 1;
    /* The browser's hang-up or error ends it even while there is nothing to write. */
    if (fds[1].revents & (POLLERR | POLLHUP)) return 1;
    size_t before = answer.held;
    if (fds[0].revents && fill(app, &answer) < 0) return 1;
    size_t filled = answer.held - before;
    if (drain(browser, &answer) < 0) return 1;
    *sent += filled + before - answer.held;
  }
  return 0;
}

static int splice_answer(void) {
  signal(SIGPIPE, SIG_IGN);
  unsigned long long sent = 0;
  int result = carry_answer(&sent);
  printf("%llu\n", sent);
  return result;
}

/* Starts the relay as a daemon of its own session, with nothing of the caller's open, and returns. */
static int start(const char *path) {
  memset(&pier_address, 0, sizeof pier_address);
  pier_address.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof pier_address.sun_path) {
    fprintf(stderr, "pier-relay: the socket path is too long: %s\n", path);
    return 2;
  }
  strcpy(pier_address.sun_path, path);
  pid_t pid = fork();
  if (pid < 0) {
    perror("pier-relay: cannot start");
    return 71;
  }
  if (pid > 0) return 0;
  setsid();
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) {
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    if (null > 2) close(null);
  }
  if (chdir("/") < 0) _exit(71);
  _exit(relay());
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "start") == 0) return start(argv[2]);
  if (argc == 2 && strcmp(argv[1], "version") == 0) return puts(VERSION_LINE) == EOF;
  if (argc == 2 && strcmp(argv[1], "splice") == 0) return splice_answer();
  fprintf(stderr, "usage: pier-relay start SOCKET\n       pier-relay version\n       pier-relay splice\n");
  return 2;
}
