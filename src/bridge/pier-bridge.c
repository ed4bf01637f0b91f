/*
 * pier-bridge: the program in a pod on another Docker engine that carries the pod's connections
 * to Pier's sockets over its own stdin and stdout, which are the engine's exec stream Pier
 * started it on. Such a pod sees nothing of the server's disk, so the sockets its programs dial
 * (the services socket, the terminal holders', the preview relay's) are this program's, in a
 * directory of the pod's own; the stream is carried by the engine's TLS or SSH, needs no network
 * in the pod, and no credential in it. One per pod, started by Pier through the runtime.
 *
 *   pier-bridge serve DIR   makes DIR, listens on DIR/services.sock, DIR/holder.sock and
 *                           DIR/relay.sock, and carries each accepted connection as a stream;
 *                           exits when its stdin closes (Pier went, or started another)
 *   pier-bridge version     prints "pier-bridge 1": it runs here
 *
 * Frames both ways: a type byte, a big-endian 32-bit length, the payload. Every frame but the
 * hello starts its payload with the stream's id, big-endian 32-bit; ids only grow, so a frame
 * for a stream that has gone is never taken for a later one, and is dropped.
 *   bridge -> Pier  'H' "pier-bridge 1", first
 *                   'O' id, then the socket's name ("services", "holder", "relay"): a
 *                       connection was accepted there
 *   both ways       'D' id, then bytes (at most CHUNK from the bridge, PIER_CHUNK from Pier)
 *                   'E' id: that side has finished sending (a half-close, passed on as one)
 *                   'C' id: the stream is over at once (an error, or refused); not answered
 *                   'K' id, then a big-endian 32-bit count: the sender of this frame has passed
 *                       that many more bytes of the stream on, so the other side may send them
 * Flow control per stream: each side may have at most WINDOW bytes of a stream sent and not yet
 * credited back with 'K'. So a flood on one stream (a preview's download, a terminal's output)
 * waits on its own window and never holds back the others, and neither side ever buffers more
 * than WINDOW per stream. The bridge reads the pod's connections only while less than OUT_LOW
 * waits for its stdout, and in turn, CHUNK at most from each, so a keystroke's echo waits behind
 * at most that much of someone else's download.
 *
 * A stream is over when both sides have sent 'E' (and what came was written), or at a 'C'. The
 * connections keep their own kernel buffers; the bridge holds at most WINDOW of each stream in
 * its memory (MAX_STREAMS * WINDOW, 32 MiB, at the very most). Static and free of any library
 * beyond libc, like pier-pty and pier-relay, so Pier can place it into any Linux image of the
 * server's machine type.
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define VERSION_LINE "pier-bridge 1"
#define HEADER 5
#define ID 4
#define MAX_STREAMS 256
#define WINDOW (128 * 1024)
/* A credit is sent back once this much has been passed on: the sender then still has 3/4 of its window. */
#define CREDIT_STEP (WINDOW / 4)
#define CHUNK (16 * 1024)
#define PIER_CHUNK (64 * 1024)
#define OUT_LOW (64 * 1024)
/* Pier is not reading at all past this much waiting for it: it is taken for gone. */
#define OUT_MAX (16 * 1024 * 1024)
#define IN_CAP (HEADER + ID + PIER_CHUNK)

static const char *const NAMES[] = {"services", "holder", "relay"};
#define KINDS 3

struct stream {
  int fd; /* -1: free */
  uint32_t id;
  unsigned char *to_pod; /* what Pier sent and the pod's connection has not taken yet */
  size_t start, end;
  size_t owed;   /* passed on to the pod and not yet credited back to Pier */
  size_t credit; /* what the bridge may still send Pier */
  int pod_ended;  /* the pod's side ended ('E' queued) */
  int pier_ended; /* Pier's 'E' came */
  int shut;       /* and was passed on, once to_pod was empty */
};

static struct stream streams[MAX_STREAMS];
static int listeners[KINDS];
static uint32_t next_id = 1;

static unsigned char *out;
static size_t out_start, out_end, out_cap;

static void put_u32(unsigned char *at, uint32_t value) {
  at[0] = (unsigned char)(value >> 24);
  at[1] = (unsigned char)(value >> 16);
  at[2] = (unsigned char)(value >> 8);
  at[3] = (unsigned char)value;
}

static uint32_t get_u32(const unsigned char *at) {
  return ((uint32_t)at[0] << 24) | ((uint32_t)at[1] << 16) | ((uint32_t)at[2] << 8) | at[3];
}

/* Room for `length` more bytes at the end of the queue for stdout; exits when Pier has stopped reading. */
static unsigned char *out_room(size_t length) {
  if (out_start > 0 && out_end + length > out_cap) {
    memmove(out, out + out_start, out_end - out_start);
    out_end -= out_start;
    out_start = 0;
  }
  if (out_end + length > out_cap) {
    size_t cap = out_cap ? out_cap : 256 * 1024;
    while (cap < out_end + length) cap *= 2;
    if (cap > OUT_MAX) exit(75);
    unsigned char *grown = realloc(out, cap);
    if (!grown) exit(71);
    out = grown;
    out_cap = cap;
  }
  return out + out_end;
}

static size_t out_waiting(void) { return out_end - out_start; }

static void send_frame(char type, uint32_t id, const void *payload, size_t length) {
  unsigned char *at = out_room(HEADER + ID + length);
  at[0] = (unsigned char)type;
  put_u32(at + 1, (uint32_t)(ID + length));
  put_u32(at + HEADER, id);
  if (length) memcpy(at + HEADER + ID, payload, length);
  out_end += HEADER + ID + length;
}

/* The hello has no id: its payload is the version line alone. */
static void send_hello(void) {
  size_t length = sizeof VERSION_LINE - 1;
  unsigned char *at = out_room(HEADER + length);
  at[0] = 'H';
  put_u32(at + 1, (uint32_t)length);
  memcpy(at + HEADER, VERSION_LINE, length);
  out_end += HEADER + length;
}

static void send_credit(struct stream *stream) {
  unsigned char count[4];
  put_u32(count, (uint32_t)stream->owed);
  send_frame('K', stream->id, count, 4);
  stream->owed = 0;
}

static void stream_free(struct stream *stream) {
  if (stream->fd >= 0) close(stream->fd);
  free(stream->to_pod);
  memset(stream, 0, sizeof *stream);
  stream->fd = -1;
}

/* The stream is over on the bridge's side, and Pier is told so ('C'). */
static void stream_abort(struct stream *stream) {
  send_frame('C', stream->id, NULL, 0);
  stream_free(stream);
}

static void stream_done_if_over(struct stream *stream) {
  if (stream->pod_ended && stream->shut) stream_free(stream);
}

static struct stream *find(uint32_t id) {
  for (int i = 0; i < MAX_STREAMS; i++) {
    if (streams[i].fd >= 0 && streams[i].id == id) return &streams[i];
  }
  return NULL;
}

static struct stream *free_slot(void) {
  for (int i = 0; i < MAX_STREAMS; i++) {
    if (streams[i].fd < 0) return &streams[i];
  }
  return NULL;
}

/* ---- the pod's side ---- */

static void accept_on(int kind) {
  int fd = accept4(listeners[kind], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) return;
  struct stream *stream = free_slot();
  /* Full, or the ids are spent (four billion connections): refused at once rather than left hanging. */
  if (!stream || next_id == 0) {
    close(fd);
    return;
  }
  stream->to_pod = malloc(WINDOW);
  if (!stream->to_pod) {
    close(fd);
    return;
  }
  stream->fd = fd;
  stream->id = next_id++;
  stream->credit = WINDOW;
  send_frame('O', stream->id, NAMES[kind], strlen(NAMES[kind]));
}

/* Reads at most CHUNK (and the stream's credit) from the pod's connection straight into a frame for Pier. */
static void read_pod(struct stream *stream) {
  size_t most = stream->credit < CHUNK ? stream->credit : CHUNK;
  unsigned char *at = out_room(HEADER + ID + most);
  ssize_t n = read(stream->fd, at + HEADER + ID, most);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n < 0) return stream_abort(stream);
  if (n == 0) {
    stream->pod_ended = 1;
    send_frame('E', stream->id, NULL, 0);
    return stream_done_if_over(stream);
  }
  at[0] = 'D';
  put_u32(at + 1, (uint32_t)(ID + n));
  put_u32(at + HEADER, stream->id);
  out_end += HEADER + ID + (size_t)n;
  stream->credit -= (size_t)n;
}

/* Writes what Pier sent to the pod's connection, credits it back, and passes Pier's end on once all is out. */
static void write_pod(struct stream *stream) {
  while (stream->end > stream->start) {
    ssize_t n = write(stream->fd, stream->to_pod + stream->start, stream->end - stream->start);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n < 0) return stream_abort(stream);
    stream->start += (size_t)n;
    stream->owed += (size_t)n;
  }
  if (stream->start == stream->end) stream->start = stream->end = 0;
  if (stream->owed >= CREDIT_STEP) send_credit(stream);
  if (stream->pier_ended && !stream->shut && stream->end == 0) {
    shutdown(stream->fd, SHUT_WR);
    stream->shut = 1;
    stream_done_if_over(stream);
  }
}

/* ---- Pier's side ---- */

static void pier_data(struct stream *stream, const unsigned char *bytes, size_t length) {
  if (stream->pier_ended) return;
  /* More than the window: Pier broke its word; the stream cannot be carried on faithfully. */
  if (stream->end - stream->start + length > WINDOW) return stream_abort(stream);
  if (stream->end + length > WINDOW) {
    memmove(stream->to_pod, stream->to_pod + stream->start, stream->end - stream->start);
    stream->end -= stream->start;
    stream->start = 0;
  }
  memcpy(stream->to_pod + stream->end, bytes, length);
  stream->end += length;
  write_pod(stream);
}

/* One frame from Pier; anything that is not one of Pier's ends the bridge (it is not Pier talking). */
static void pier_frame(unsigned char type, const unsigned char *payload, size_t length) {
  if (length < ID) exit(65);
  struct stream *stream = find(get_u32(payload));
  if (type == 'D' && length > ID) {
    if (stream) pier_data(stream, payload + ID, length - ID);
  } else if (type == 'E' && length == ID) {
    if (stream && !stream->pier_ended) {
      stream->pier_ended = 1;
      write_pod(stream);
    }
  } else if (type == 'C' && length == ID) {
    if (stream) stream_free(stream);
  } else if (type == 'K' && length == ID + 4) {
    if (stream) {
      stream->credit += get_u32(payload + ID);
      if (stream->credit > WINDOW) stream->credit = WINDOW;
    }
  } else {
    exit(65);
  }
}

static unsigned char in[IN_CAP];
static size_t in_fill;

/* Reads what Pier sent and handles every whole frame; exits when stdin has closed. */
static void read_pier(void) {
  ssize_t n = read(0, in + in_fill, sizeof in - in_fill);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) exit(0);
  in_fill += (size_t)n;
  size_t at = 0;
  while (in_fill - at >= HEADER) {
    uint32_t length = get_u32(in + at + 1);
    if (length > ID + PIER_CHUNK) exit(65);
    if (in_fill - at < HEADER + length) break;
    pier_frame(in[at], in + at + HEADER, length);
    at += HEADER + length;
  }
  memmove(in, in + at, in_fill - at);
  in_fill -= at;
}

static void write_pier(void) {
  while (out_waiting() > 0) {
    ssize_t n = write(1, out + out_start, out_waiting());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n < 0) exit(0);
    out_start += (size_t)n;
  }
  out_start = out_end = 0;
}

/* ---- the daemon ---- */

static int listen_on(const char *dir, const char *name) {
  struct sockaddr_un address;
  memset(&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  int length = snprintf(address.sun_path, sizeof address.sun_path, "%s/%s.sock", dir, name);
  if (length < 0 || (size_t)length >= sizeof address.sun_path) {
    fprintf(stderr, "pier-bridge: the socket path is too long: %s/%s.sock\n", dir, name);
    exit(2);
  }
  /* A bridge from before (Pier restarted) may still hold its socket: the path is taken over. */
  unlink(address.sun_path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind(fd, (struct sockaddr *)&address, sizeof address) < 0 || listen(fd, 128) < 0) {
    fprintf(stderr, "pier-bridge: cannot listen on %s: %s\n", address.sun_path, strerror(errno));
    exit(71);
  }
  /* Every user of the pod may connect, as to Pier's own sockets. */
  chmod(address.sun_path, 0666);
  return fd;
}

static int serve(const char *dir) {
  signal(SIGPIPE, SIG_IGN);
  if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
    fprintf(stderr, "pier-bridge: cannot make %s: %s\n", dir, strerror(errno));
    return 71;
  }
  chmod(dir, 0755);
  for (int i = 0; i < MAX_STREAMS; i++) streams[i].fd = -1;
  for (int kind = 0; kind < KINDS; kind++) listeners[kind] = listen_on(dir, NAMES[kind]);
  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  fcntl(1, F_SETFL, fcntl(1, F_GETFL) | O_NONBLOCK);
  send_hello();

  struct pollfd fds[2 + KINDS + MAX_STREAMS];
  /* Which stream each descriptor was polled for: a slot freed and taken again meanwhile is not that stream. */
  uint32_t polled[MAX_STREAMS];
  int turn = 0;
  for (;;) {
    int room = out_waiting() < OUT_LOW;
    int slots = free_slot() != NULL;
    fds[0].fd = 0;
    fds[0].events = POLLIN;
    fds[1].fd = out_waiting() > 0 ? 1 : -1;
    fds[1].events = POLLOUT;
    for (int kind = 0; kind < KINDS; kind++) {
      /* A full bridge still accepts, to refuse at once, but not while Pier is behind on reading. */
      fds[2 + kind].fd = room || !slots ? listeners[kind] : -1;
      fds[2 + kind].events = POLLIN;
    }
    for (int i = 0; i < MAX_STREAMS; i++) {
      struct stream *stream = &streams[i];
      struct pollfd *fd = &fds[2 + KINDS + i];
      fd->fd = -1;
      fd->revents = 0;
      polled[i] = stream->id;
      if (stream->fd < 0) continue;
      fd->events = 0;
      if (room && !stream->pod_ended && stream->credit > 0) fd->events |= POLLIN;
      if (stream->end > stream->start) fd->events |= POLLOUT;
      if (fd->events) fd->fd = stream->fd;
    }
    if (poll(fds, 2 + KINDS + MAX_STREAMS, -1) < 0) {
      if (errno == EINTR) continue;
      return 70;
    }
    if (fds[0].revents) read_pier();
    for (int kind = 0; kind < KINDS; kind++) {
      if (fds[2 + kind].revents & POLLIN) accept_on(kind);
    }
    /* In turn from a different stream each time, CHUNK at most each, while Pier keeps up. */
    turn = (turn + 1) % MAX_STREAMS;
    for (int k = 0; k < MAX_STREAMS; k++) {
      int i = (turn + k) % MAX_STREAMS;
      struct stream *stream = &streams[i];
      short events = fds[2 + KINDS + i].revents;
      if (stream->fd < 0 || polled[i] != stream->id || !events) continue;
      if ((events & POLLOUT) || ((events & (POLLHUP | POLLERR)) && stream->end > stream->start)) write_pod(stream);
      if (stream->fd < 0 || stream->pod_ended || stream->credit == 0 || out_waiting() >= OUT_LOW) continue;
      if (events & (POLLIN | POLLHUP | POLLERR)) read_pod(stream);
    }
    /* Written at once, not at the next wake: most reads can go straight out. */
    write_pier();
  }
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "serve") == 0) return serve(argv[2]);
  if (argc == 2 && strcmp(argv[1], "version") == 0) return puts(VERSION_LINE) == EOF;
  fprintf(stderr, "usage: pier-bridge serve DIR\n       pier-bridge version\n");
  return 2;
}
