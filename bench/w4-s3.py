#!/usr/bin/env python3
"""S3 chores of bench/scale.sh W4 (boto3, straight to the S3 server, not through the counting proxy):

  w4-s3.py ENDPOINT mb BUCKET
  w4-s3.py ENDPOINT put BUCKET PREFIX FILE...      upload files as PREFIX<file name>
  w4-s3.py ENDPOINT work BUCKET PREFIX             a work area's objects and bytes by step, as JSON
                                                   (keys FP/STEP/TASK/NAME and FP/done/STEP/TASK.json)
  w4-s3.py ENDPOINT sha BUCKET PREFIX              "sha256 size key" of every object under PREFIX but the
                                                   work area (_dataprep/work/), key relative to PREFIX, sorted
"""
import hashlib, json, sys
import boto3
from boto3.s3.transfer import TransferConfig

endpoint, command, bucket = sys.argv[1], sys.argv[2], sys.argv[3]
s3 = boto3.client("s3", endpoint_url=endpoint)

def keys(prefix):
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        yield from page.get("Contents", [])

if command == "mb":
    s3.create_bucket(Bucket=bucket)
elif command == "put":
    prefix = sys.argv[4]
    config = TransferConfig(multipart_threshold=64 << 20, multipart_chunksize=64 << 20, max_concurrency=4)
    for path in sys.argv[5:]:
        s3.upload_file(path, bucket, prefix + path.rsplit("/", 1)[-1], Config=config)
elif command == "work":
    prefix = sys.argv[4]
    steps = {}
    for o in keys(prefix):
        parts = o["Key"][len(prefix):].split("/")
        step = "done" if parts[1] == "done" else parts[1]
        s = steps.setdefault(step, {"objects": 0, "bytes": 0})
        s["objects"] += 1
        s["bytes"] += o["Size"]
    print(json.dumps(steps))
elif command == "sha":
    prefix = sys.argv[4]
    for o in sorted(keys(prefix), key=lambda o: o["Key"]):
        rel = o["Key"][len(prefix):]
        if rel.startswith("_dataprep/work/"): continue
        h = hashlib.sha256()
        for chunk in s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].iter_chunks(1 << 20): h.update(chunk)
        print(h.hexdigest(), o["Size"], rel)
else:
    sys.exit(f"w4-s3.py: unknown command {command}")
