"""Vectors and words: the embedder, the vector store (the only chromadb importer), BM25, and the classifiers learned on the embedder's vectors."""
