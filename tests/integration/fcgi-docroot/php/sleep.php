<?php
// Sleep s seconds (default 3).  pidfile=PATH: write the worker's pid
// there first; partial=1: send the head and a first line before sleeping.
header('Content-Type: text/plain');
if (isset($_GET['pidfile']))
	file_put_contents($_GET['pidfile'], getmypid());
if (isset($_GET['partial'])) {
	echo "partial body\n";
	flush();
}
usleep((int)((float)($_GET['s'] ?? 3) * 1000000));
echo "slept\n";
