import sys
print("TODO")
