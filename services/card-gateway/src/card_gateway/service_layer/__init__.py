"""Operations on a JPKI card: one PC/SC transaction per operation, serialised per reader, with a deadline."""
