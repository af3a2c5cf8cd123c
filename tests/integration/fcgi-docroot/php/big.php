<?php
// mb MiB of varied bytes, streamed in 64 KiB echo()s; the sha256 of the
// whole in a header first.
$mb = (int)($_GET['mb'] ?? 5);
$block = '';
for ($i = 0; strlen($block) < 65536; $i++)
	$block .= hash('sha256', "block $i", true);
$all = str_repeat($block, $mb * 16);
header('Content-Type: application/octet-stream');
header('X-Sha256: ' . hash('sha256', $all));
for ($off = 0; $off < strlen($all); $off += 65536)
	echo substr($all, $off, 65536);
