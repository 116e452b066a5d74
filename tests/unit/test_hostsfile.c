/* Unit tests for hostsfile.c: the per-network hosts file, pure and on a
 * temporary directory (the in-place rewrite keeps the inode). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostsfile.h"
#include "util.h"

#define HEAD "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" \
             "# berth: the containers on network lan, kept up to date by berth\n"

static struct in_addr ip(const char *s)
{
        struct in_addr a;
        assert_int_equal(inet_pton(AF_INET, s, &a), 1);
        return a;
}

static void test_hostsfile_update_text_adds_replaces_removes(void **state)
{
        (void) state;
        char *a = NULL, *b = NULL, *c = NULL, *d = NULL;
        struct in_addr web = ip("198.18.0.2"), db = ip("198.18.0.3"), web2 = ip("198.18.0.9");
        assert_int_equal(hostsfile_update_text(NULL, "lan", "web", "www", &web, &a), 0);
        assert_string_equal(a, HEAD "198.18.0.2\tweb web.lan www\n");
        assert_int_equal(hostsfile_update_text(a, "lan", "db", "db", &db, &b), 0);
        assert_string_equal(b, HEAD "198.18.0.2\tweb web.lan www\n198.18.0.3\tdb db.lan\n");
        assert_int_equal(hostsfile_update_text(b, "lan", "web", NULL, &web2, &c), 0);
        assert_string_equal(c, HEAD "198.18.0.3\tdb db.lan\n198.18.0.9\tweb web.lan\n");
        /* Padding (blank lines) from an in-place rewrite is dropped. */
        char *padded = strdup_printf("%s\n\n\n", c);
        assert_int_equal(hostsfile_update_text(padded, "lan", "db", NULL, NULL, &d), 0);
        assert_string_equal(d, HEAD "198.18.0.9\tweb web.lan\n");
        free(a), free(b), free(c), free(d), free(padded);
}

static void test_hostsfile_update_text_rejects_bad_names(void **state)
{
        (void) state;
        char *s = NULL;
        struct in_addr a = ip("198.18.0.2");
        assert_int_equal(hostsfile_update_text(NULL, "lan", "x\n6.6.6.6 evil", NULL, &a, &s), -EINVAL);
        assert_int_equal(hostsfile_update_text(NULL, "lan", "web", "a b", &a, &s), -EINVAL);
        assert_int_equal(hostsfile_update_text(NULL, "../x", "web", NULL, &a, &s), -EINVAL);
        assert_null(s);
}

static void test_hostsfile_set_rewrites_in_place(void **state)
{
        (void) state;
        char dir[] = "/tmp/test_hostsfile.XXXXXX";
        assert_non_null(mkdtemp(dir));
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        struct in_addr web = ip("198.18.0.2"), db = ip("198.18.0.3");
        assert_int_equal(hostsfile_set(dfd, "lan", "web", NULL, &web), 0);
        struct stat before, after;
        assert_int_equal(fstatat(dfd, "lan.hosts", &before, 0), 0);
        assert_int_equal(before.st_mode & 07777, 0644);
        char etc[sizeof dir + 8];
        snprintf(etc, sizeof etc, "%s/etc", dir);
        assert_int_equal(mkdir(etc, 0755), 0);
        assert_int_equal(hostsfile_link(dfd, "lan", etc), 0);
        assert_int_equal(hostsfile_set(dfd, "lan", "db", NULL, &db), 0);
        assert_int_equal(hostsfile_set(dfd, "lan", "web", NULL, NULL), 0);
        assert_int_equal(fstatat(dfd, "lan.hosts", &after, 0), 0);
        assert_int_equal(before.st_ino, after.st_ino);
        char *text = NULL;
        int efd = open(etc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_int_equal(read_file_at(efd, "hosts", 1 << 20, &text, NULL), 0);
        assert_non_null(strstr(text, "198.18.0.3\tdb db.lan\n"));
        assert_null(strstr(text, "web"));
        free(text);
        assert_int_equal(unlinkat(efd, "hosts", 0), 0);
        assert_int_equal(rmdir(etc), 0);
        close(efd);
        /* forget: the name leaves every network's file. */
        assert_int_equal(hostsfile_set(dfd, "lan", "web", NULL, &web), 0);
        char netdir[sizeof dir + 16];
        snprintf(netdir, sizeof netdir, "%s/networks", dir);
        assert_int_equal(mkdir(netdir, 0700), 0);
        int nfd = open(netdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_int_equal(hostsfile_set(nfd, "lan", "web", NULL, &web), 0);
        assert_int_equal(hostsfile_set(nfd, "dmz", "web", NULL, &db), 0);
        hostsfile_forget(dir, "web");
        assert_int_equal(read_file_at(nfd, "lan.hosts", 1 << 20, &text, NULL), 0);
        assert_null(strstr(text, "web"));
        free(text);
        assert_int_equal(read_file_at(nfd, "dmz.hosts", 1 << 20, &text, NULL), 0);
        assert_null(strstr(text, "web"));
        free(text);
        unlinkat(nfd, "lan.hosts", 0);
        unlinkat(nfd, "dmz.hosts", 0);
        close(nfd);
        rmdir(netdir);
        unlinkat(dfd, "lan.hosts", 0);
        close(dfd);
        assert_int_equal(rmdir(dir), 0);
}

#define OWN_HEAD(NAME, NETS) "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" \
        "# berth: container " NAME ", networks: " NETS "\n" \
        "# (the containers on each, a name by its first line; kept up to date by berth)\n"

static void test_hostsfile_own_text_first_network_wins(void **state)
{
        (void) state;
        const char *lan = "127.0.0.1\tlocalhost\n# berth: the containers on network lan\n"
                          "198.18.0.2\tweb web.lan www\n198.18.0.5\tmulti multi.lan\n\n\n";
        const char *dmz = "# berth: the containers on network dmz\n198.18.1.7\tweb web.dmz www\n"
                          "198.18.1.8\tdb db.dmz\n198.18.1.5\tmulti multi.dmz\n";
        const char *nets[] = { "lan", "dmz" }, *texts[] = { lan, dmz };
        char *s = NULL;
        assert_int_equal(hostsfile_own_text("multi", nets, texts, 2, &s), 0);
        /* web and www: lan's address (the first network); web.dmz dmz's. */
        assert_string_equal(s, OWN_HEAD("multi", "lan dmz") "198.18.0.2\tweb web.lan www\n"
                               "198.18.0.5\tmulti multi.lan\n198.18.1.7\tweb.dmz\n198.18.1.8\tdb db.dmz\n"
                               "198.18.1.5\tmulti.dmz\n");
        char got[HOSTSFILE_NETS_MAX][64];
        size_t n = 0;
        assert_int_equal(hostsfile_own_networks(s, got, HOSTSFILE_NETS_MAX, &n), 0);
        assert_int_equal(n, 2);
        assert_string_equal(got[0], "lan");
        assert_string_equal(got[1], "dmz");
        free(s);
        /* The other order: dmz's addresses for the bare names. */
        const char *nets2[] = { "dmz", "lan" }, *texts2[] = { dmz, lan };
        assert_int_equal(hostsfile_own_text("multi", nets2, texts2, 2, &s), 0);
        assert_non_null(strstr(s, "198.18.1.7\tweb web.dmz www\n"));
        assert_non_null(strstr(s, "198.18.0.2\tweb.lan\n"));
        free(s);
        /* A network with no file yet: nothing of it. */
        const char *texts3[] = { lan, NULL };
        assert_int_equal(hostsfile_own_text("multi", nets, texts3, 2, &s), 0);
        assert_null(strstr(s, "dmz\n1"));
        assert_null(strstr(s, "db"));
        free(s);
}

static void test_hostsfile_own_rejects(void **state)
{
        (void) state;
        char *s = NULL;
        const char *nets[] = { "lan", "../x" }, *texts[] = { NULL, NULL };
        assert_int_equal(hostsfile_own_text("multi", nets, texts, 2, &s), -EINVAL);
        assert_int_equal(hostsfile_own_text("a b", nets, texts, 1, &s), -EINVAL);
        assert_int_equal(hostsfile_own_text("multi", nets, texts, 0, &s), -EINVAL);
        assert_null(s);
        char got[HOSTSFILE_NETS_MAX][64];
        size_t n;
        assert_int_equal(hostsfile_own_networks("127.0.0.1\tlocalhost\n", got, HOSTSFILE_NETS_MAX, &n), -EINVAL);
        assert_int_equal(hostsfile_own_networks("# berth: container x, networks:\n", got, HOSTSFILE_NETS_MAX, &n),
                         -EINVAL);
        assert_int_equal(hostsfile_own_networks("# berth: container x, networks: a ../b\n", got,
                                                HOSTSFILE_NETS_MAX, &n),
                         -EINVAL);
        assert_int_equal(hostsfile_own_networks("# berth: container x, networks: a b c\n", got, 2, &n), -EINVAL);
}

static void test_hostsfile_own_follows_its_networks(void **state)
{
        (void) state;
        char dir[] = "/tmp/test_hostsfile_own.XXXXXX";
        assert_non_null(mkdtemp(dir));
        char netdir[sizeof dir + 16], etc[sizeof dir + 8];
        snprintf(netdir, sizeof netdir, "%s/networks", dir);
        snprintf(etc, sizeof etc, "%s/etc", dir);
        assert_int_equal(mkdir(netdir, 0700), 0);
        assert_int_equal(mkdir(etc, 0755), 0);
        int nfd = open(netdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(nfd >= 0);
        struct in_addr m0 = ip("198.18.0.5"), m1 = ip("198.18.1.5"), db = ip("198.18.1.8"), web = ip("198.18.0.2");
        assert_int_equal(hostsfile_set(nfd, "lan", "multi", NULL, &m0), 0);
        assert_int_equal(hostsfile_set(nfd, "dmz", "multi", NULL, &m1), 0);
        const char *nets[] = { "lan", "dmz" };
        assert_int_equal(hostsfile_own_set(nfd, "multi", nets, 2), 0);
        assert_int_equal(hostsfile_own_link(nfd, "multi", etc), 0);
        struct stat before, after;
        int efd = open(etc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_int_equal(fstatat(efd, "hosts", &before, 0), 0);
        assert_int_equal(before.st_nlink, 2);
        assert_int_equal(before.st_mode & 07777, 0644);
        /* A peer joins the second network, another the first: both seen. */
        assert_int_equal(hostsfile_set(nfd, "dmz", "db", NULL, &db), 0);
        assert_int_equal(hostsfile_set(nfd, "lan", "web", NULL, &web), 0);
        char *text = NULL;
        assert_int_equal(read_file_at(efd, "hosts", 1 << 20, &text, NULL), 0);
        assert_non_null(strstr(text, "198.18.1.8\tdb db.dmz\n"));
        assert_non_null(strstr(text, "198.18.0.2\tweb web.lan\n"));
        assert_non_null(strstr(text, "198.18.0.5\tmulti multi.lan\n198.18.1.5\tmulti.dmz\n") ||
                        strstr(text, "198.18.0.5\tmulti multi.lan\n198.18.0.2\tweb web.lan\n198.18.1.5\tmulti.dmz\n"));
        free(text);
        /* It leaves: gone, the file the same inode. */
        assert_int_equal(hostsfile_set(nfd, "dmz", "db", NULL, NULL), 0);
        assert_int_equal(read_file_at(efd, "hosts", 1 << 20, &text, NULL), 0);
        assert_null(strstr(text, "db"));
        free(text);
        assert_int_equal(fstatat(efd, "hosts", &after, 0), 0);
        assert_int_equal(before.st_ino, after.st_ino);
        /* An own file gone stale (written by hand) is made right by resync. */
        int fd = openat(nfd, HOSTSFILE_OWN_DIR "/multi", O_WRONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(pwrite(fd, "#", 1, 0), 1); /* breaks the localhost line */
        close(fd);
        hostsfile_resync(dir);
        assert_int_equal(read_file_at(efd, "hosts", 1 << 20, &text, NULL), 0);
        assert_int_equal(strncmp(text, "127.0.0.1\tlocalhost\n", 20), 0);
        free(text);
        /* forget: its lines and its own file. */
        hostsfile_forget(dir, "multi");
        assert_int_equal(faccessat(nfd, HOSTSFILE_OWN_DIR "/multi", F_OK, 0), -1);
        assert_int_equal(read_file_at(nfd, "lan.hosts", 1 << 20, &text, NULL), 0);
        assert_null(strstr(text, "multi"));
        free(text);
        assert_int_equal(hostsfile_own_remove(nfd, "multi"), 0); /* none: fine */
        unlinkat(efd, "hosts", 0);
        close(efd);
        rmdir(etc);
        unlinkat(nfd, "lan.hosts", 0);
        unlinkat(nfd, "dmz.hosts", 0);
        unlinkat(nfd, HOSTSFILE_OWN_DIR, AT_REMOVEDIR);
        close(nfd);
        assert_int_equal(rmdir(netdir), 0);
        assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hostsfile_update_text_adds_replaces_removes),
                cmocka_unit_test(test_hostsfile_update_text_rejects_bad_names),
                cmocka_unit_test(test_hostsfile_set_rewrites_in_place),
                cmocka_unit_test(test_hostsfile_own_text_first_network_wins),
                cmocka_unit_test(test_hostsfile_own_rejects),
                cmocka_unit_test(test_hostsfile_own_follows_its_networks),
        };
        return cmocka_run_group_tests_name("hostsfile", tests, NULL, NULL);
}
