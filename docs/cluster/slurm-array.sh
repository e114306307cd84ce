#!/bin/bash
# Slurm job array: 16 tasks, each renders its shard of the manifest (jobs with index % 16 == task).
# thg reads SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT (and SLURM_ARRAY_TASK_MIN, so --array=1-16
# works too). Resubmitting the same array resumes: finished jobs are skipped.
#SBATCH --job-name=thg-batch
#SBATCH --array=0-15
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=8
#SBATCH --time=04:00:00
#SBATCH --output=logs/thg-%A_%a.log
set -euo pipefail

thg batch jobs.yaml --output-dir /shared/renders --device cuda --dtype float16 --quiet

# After the array (e.g. a dependent job: sbatch --dependency=afterany:$SLURM_ARRAY_JOB_ID):
#   thg batch jobs.yaml --output-dir /shared/renders --merge-reports
