/*
 * pier-ask: how Pier's helpers in a pod (git's credential helper, the gh wrapper, Claude Code's
 * key and MCP-headers helpers, the MCP launcher) ask Pier over the pod's socket. With it they need
 * nothing from the image but a shell: many images (node:*-slim, python:*-slim) have no curl.
 *
 *   pier-ask SOCKET GET PATH [NAME=VALUE...]    prints the answer's body
 *   pier-ask SOCKET POST PATH [NAME=VALUE...]   the same, sending stdin (64 KiB at most) as the body
 *   pier-ask version                            prints "pier-ask 1": it runs here
 *
 * NAME=VALUE pairs become the query string, percent-encoded here, so no value is ever read as
 * part of the path or as another pair. A 2xx answer's body goes to stdout whole, and only once
 * all of it has arrived, so a token cut off on its way is never printed. Any other answer puts
 * its first line, without control characters, on stderr after "Pier: " and exits 1, as does a
 * socket that does not answer within 10 s. Exit 2 is a wrong command line.
 *
 * Minimal HTTP/1.1, by hand. libcurl is what this replaces: the images that need this lack it,
 * and it is far more than libc. The HTTP parsers in C (picohttpparser, llhttp) parse only: the
 * socket, the request, the chunked body and the bounds would still be ours to write, around
 * more vendored code than the little parsing that one known peer (Pier's Bun.serve) needs. The
 * peer is still not trusted to behave: the answer's head is at most 16 KiB and its body 4 MiB,
 * every number is checked before it is used, and nothing is written past a buffer.
 *
 * Static and free of any library beyond libc, like pier-pty, so Pier can place it into any Linux
 * image of the server's machine type.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define TIMEOUT_S 10
#define REQUEST_HEAD_MAX (16 * 1024)
#define REQUEST_BODY_MAX (64 * 1024)
#define ANSWER_LINE_MAX (8 * 1024)
#define ANSWER_HEAD_MAX (16 * 1024)
#define ANSWER_BODY_MAX (4 * 1024 * 1024)
/* Of a refusal's sentence, shown on stderr. */
#define TOLD_MAX 300

/* Says what went wrong, as one line for the person, and exits 1. */
static void fail(const char *format, ...) {
  va_list args;
  va_start(args, format);
  fputs("Pier: ", stderr);
  vfprintf(stderr, format, args);
  fputc('\n', stderr);
  va_end(args);
  exit(1);
}

static void usage(void) {
  fputs("usage: pier-ask SOCKET GET|POST PATH [NAME=VALUE...]\n       pier-ask version\n", stderr);
  exit(2);
}

/* Only async-signal-safe calls: the alarm may come in the middle of anything. */
static void too_slow(int signal_number) {
  static const char message[] = "Pier: Pier did not answer within 10 s.\n";
  (void)signal_number;
  ssize_t ignored = write(2, message, sizeof message - 1);
  (void)ignored;
  _exit(1);
}

static void write_all(int fd, const char *data, size_t length, const char *what) {
  while (length > 0) {
    ssize_t n = write(fd, data, length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("could not write %s: %s", what, strerror(errno));
    data += n;
    length -= (size_t)n;
  }
}

/* ---- the request ---- */

struct text {
  char *data;
  size_t length, cap;
};

static void add_bytes(struct text *text, const char *bytes, size_t length, const char *too_long) {
  if (length > text->cap - text->length) fail("%s", too_long);
  memcpy(text->data + text->length, bytes, length);
  text->length += length;
}

static void add(struct text *text, const char *string) {
  add_bytes(text, string, strlen(string), "the request is longer than 16 KiB.");
}

/* Percent-encodes all but RFC 3986's unreserved characters. */
static void add_encoded(struct text *text, const char *bytes, size_t length) {
  static const char hex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < length; i++) {
    unsigned char c = (unsigned char)bytes[i];
    int plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    char encoded[3] = {'%', hex[c >> 4], hex[c & 15]};
    if (plain) add_bytes(text, (const char *)&c, 1, "the request is longer than 16 KiB.");
    else add_bytes(text, encoded, 3, "the request is longer than 16 KiB.");
  }
}

/* stdin, whole: the request's body (git's credential request, a few lines). */
static struct text read_stdin(void) {
  static char body[REQUEST_BODY_MAX + 1];
  struct text text = {body, 0, sizeof body};
  for (;;) {
    ssize_t n = read(0, body + text.length, text.cap - text.length);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("could not read what to send: %s", strerror(errno));
    if (n == 0) return text;
    text.length += (size_t)n;
    if (text.length > REQUEST_BODY_MAX) fail("what to send is larger than 64 KiB.");
  }
}

/* ---- the answer, read through one buffer ---- */

static int peer = -1;
static unsigned char incoming[16 * 1024];
static size_t incoming_at, incoming_end;

/* The answer's next byte, or -1 where it ends. */
static int next_byte(void) {
  if (incoming_at == incoming_end) {
    ssize_t n;
    do n = read(peer, incoming, sizeof incoming);
    while (n < 0 && errno == EINTR);
    if (n < 0) fail("could not read Pier's answer: %s", strerror(errno));
    if (n == 0) return -1;
    incoming_at = 0;
    incoming_end = (size_t)n;
  }
  return incoming[incoming_at++];
}

/*
 * One line of the answer's head or of a chunked body, without its CR LF; returns its length.
 * `budget` is what the head may still take (a chunk's size line has one of its own).
 */
static size_t read_line(char *line, size_t cap, size_t *budget) {
  size_t length = 0;
  for (;;) {
    int c = next_byte();
    if (c < 0) fail("Pier's answer ended early.");
    if (*budget == 0) fail("Pier's answer has a head larger than 16 KiB.");
    (*budget)--;
    if (c == '\n') break;
    if (length + 1 >= cap) fail("Pier's answer has a line longer than 8 KiB.");
    line[length++] = (char)c;
  }
  if (length > 0 && line[length - 1] == '\r') length--;
  line[length] = '\0';
  return length;
}

/* A decimal or hexadecimal number that is all digits and at most `max`; -1 otherwise. */
static long parse_number(const char *text, int base, long max) {
  long value = 0;
  if (*text == '\0') return -1;
  for (; *text; text++) {
    int digit;
    if (*text >= '0' && *text <= '9') digit = *text - '0';
    else if (base == 16 && *text >= 'a' && *text <= 'f') digit = *text - 'a' + 10;
    else if (base == 16 && *text >= 'A' && *text <= 'F') digit = *text - 'A' + 10;
    else return -1;
    if (value > (max - digit) / base) return -1;
    value = value * base + digit;
  }
  return value;
}

static int is_digit(char c) {
  return c >= '0' && c <= '9';
}

static const char *skip_spaces(const char *text) {
  while (*text == ' ' || *text == '\t') text++;
  return text;
}

static void trim_end(char *text) {
  size_t length = strlen(text);
  while (length > 0 && (text[length - 1] == ' ' || text[length - 1] == '\t')) text[--length] = '\0';
}

struct body {
  unsigned char *data;
  size_t length, cap;
};

static void keep(struct body *body, int c) {
  if (body->length == ANSWER_BODY_MAX) fail("Pier's answer is larger than 4 MiB.");
  if (body->length == body->cap) {
    size_t cap = body->cap ? body->cap * 2 : 4096;
    if (cap > ANSWER_BODY_MAX) cap = ANSWER_BODY_MAX;
    unsigned char *grown = realloc(body->data, cap);
    if (!grown) fail("out of memory.");
    body->data = grown;
    body->cap = cap;
  }
  body->data[body->length++] = (unsigned char)c;
}

static void keep_exactly(struct body *body, long count) {
  for (long i = 0; i < count; i++) {
    int c = next_byte();
    if (c < 0) fail("Pier's answer ended early.");
    keep(body, c);
  }
}

/* A chunked body: hexadecimal sizes (extensions after ';' ignored), each chunk followed by CR LF. */
static void keep_chunked(struct body *body, size_t *head_budget) {
  char line[ANSWER_LINE_MAX];
  for (;;) {
    size_t budget = ANSWER_LINE_MAX;
    read_line(line, sizeof line, &budget);
    line[strcspn(line, "; \t")] = '\0';
    long size = parse_number(line, 16, ANSWER_BODY_MAX);
    if (size < 0) fail("Pier's answer has a chunk of no size this reads.");
    if (size == 0) break;
    keep_exactly(body, size);
    int c = next_byte();
    if (c == '\r') c = next_byte();
    if (c != '\n') fail("Pier's answer has a chunk longer than it said.");
  }
  /* Trailers, up to the empty line: they count against the head's budget. */
  while (read_line(line, sizeof line, head_budget) != 0) continue;
}

/* The first line of a refusal, with control characters shown as '?', on stderr. */
static void tell_refusal(int status, const struct body *body) {
  char told[TOLD_MAX + 1];
  size_t length = 0;
  for (size_t i = 0; i < body->length && length < TOLD_MAX; i++) {
    unsigned char c = body->data[i];
    if (c == '\n') break;
    if (c == '\r') continue;
    told[length++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
  }
  told[length] = '\0';
  trim_end(told);
  if (told[0]) fail("%s", told);
  fail("Pier answered %d.", status);
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "version") == 0) {
    puts("pier-ask 1");
    return 0;
  }
  if (argc < 4) usage();
  const char *socket_path = argv[1], *method = argv[2], *path = argv[3];
  int post = strcmp(method, "POST") == 0;
  if (!post && strcmp(method, "GET") != 0) usage();
  if (path[0] != '/') usage();
  for (const char *p = path; *p; p++) {
    if (*p <= ' ' || *p == 0x7f || *p == '?' || *p == '#') usage();
  }

  signal(SIGPIPE, SIG_IGN);
  signal(SIGALRM, too_slow);
  alarm(TIMEOUT_S);

  static char head[REQUEST_HEAD_MAX];
  struct text request = {head, 0, sizeof head};
  add(&request, method);
  add(&request, " ");
  add(&request, path);
  for (int i = 4; i < argc; i++) {
    const char *equals = strchr(argv[i], '=');
    if (!equals || equals == argv[i]) usage();
    add(&request, i == 4 ? "?" : "&");
    add_encoded(&request, argv[i], (size_t)(equals - argv[i]));
    add(&request, "=");
    add_encoded(&request, equals + 1, strlen(equals + 1));
  }
  struct text body = {NULL, 0, 0};
  if (post) body = read_stdin();
  char length_header[64];
  snprintf(length_header, sizeof length_header, "Content-Length: %zu\r\n", body.length);
  add(&request, " HTTP/1.1\r\nHost: pier\r\nConnection: close\r\n");
  if (post) add(&request, length_header);
  add(&request, "\r\n");

  struct sockaddr_un address = {.sun_family = AF_UNIX};
  if (strlen(socket_path) >= sizeof address.sun_path) fail("the socket's path is too long: %s", socket_path);
  strcpy(address.sun_path, socket_path);
  peer = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (peer < 0) fail("could not make a socket: %s", strerror(errno));
  if (connect(peer, (struct sockaddr *)&address, sizeof address) < 0) fail("could not reach Pier at %s: %s", socket_path, strerror(errno));
  write_all(peer, request.data, request.length, "to Pier");
  if (body.length) write_all(peer, body.data, body.length, "to Pier");

  /* The status line: HTTP/1.x, a space, three digits (each test stops at the line's end). */
  char line[ANSWER_LINE_MAX];
  size_t head_budget = ANSWER_HEAD_MAX;
  read_line(line, sizeof line, &head_budget);
  if (strncmp(line, "HTTP/1.", 7) != 0 || !is_digit(line[7]) || line[8] != ' ' || !is_digit(line[9]) || !is_digit(line[10]) ||
      !is_digit(line[11]) || (line[12] != '\0' && line[12] != ' ')) {
    fail("Pier's answer is not HTTP.");
  }
  int status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');

  long content_length = -1;
  int chunked = 0;
  while (read_line(line, sizeof line, &head_budget) != 0) {
    char *colon = strchr(line, ':');
    if (!colon) fail("Pier's answer has a header line without a colon.");
    *colon = '\0';
    char *value = (char *)skip_spaces(colon + 1);
    trim_end(value);
    if (strcasecmp(line, "content-length") == 0) {
      long length = parse_number(value, 10, ANSWER_BODY_MAX);
      if (length < 0) fail("Pier's answer is larger than 4 MiB, or says so unreadably.");
      if (content_length >= 0 && content_length != length) fail("Pier's answer gives two lengths.");
      content_length = length;
    } else if (strcasecmp(line, "transfer-encoding") == 0) {
      if (strcasecmp(value, "chunked") != 0) fail("Pier's answer has a transfer encoding this does not read (%.40s).", value);
      chunked = 1;
    }
  }

  /* Static, so it is still reachable (not a leak to a sanitizer) when a refusal exits. */
  static struct body answer;
  if (status == 204 || status == 304) {
    /* No body, whatever the head says. */
  } else if (chunked) {
    keep_chunked(&answer, &head_budget);
  } else if (content_length >= 0) {
    keep_exactly(&answer, content_length);
  } else {
    for (int c; (c = next_byte()) >= 0;) keep(&answer, c);
  }
  close(peer);
  alarm(0);

  if (status < 200 || status > 299) tell_refusal(status, &answer);
  if (answer.length) write_all(1, (const char *)answer.data, answer.length, "the answer");
  return 0;
}
