vectors-model
fp-vectors (2:J╢уq╬tУ╨?/U&©E>;©+©╪°■='цG?Q7[НЮад