/*
 * freeport: print a TCP port on 127.0.0.1 that is free right now.
 *
 * Binds a socket to 127.0.0.1 port 0, asks the kernel which port it got,
 * prints it and exits.  The port is released on exit, so another process
 * could take it before the test does; with the kernel's ephemeral port
 * allocation that is rare enough for tests (wait_port catches it).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
main(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0) {
		perror("freeport: socket");
		return 1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons(0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("freeport: bind 127.0.0.1:0");
		close(fd);
		return 1;
	}
	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		perror("freeport: getsockname");
		close(fd);
		return 1;
	}
	printf("%u\n", (unsigned)ntohs(sa.sin_port));
	close(fd);
	return fflush(stdout) == 0 ? 0 : 1;
}
