<?php
// The body back, with its sha256 and length as PHP read them.
$b = file_get_contents('php://input');
header('Content-Type: ' . ($_SERVER['CONTENT_TYPE'] ?? 'application/octet-stream'));
header('X-Body-Sha256: ' . hash('sha256', $b));
header('X-Body-Length: ' . strlen($b));
echo $b;
