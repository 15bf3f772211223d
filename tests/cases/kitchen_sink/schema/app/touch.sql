BEGIN
  -- The argument names why the trigger fired; kept for the log.
  NEW.title := btrim(NEW.title);
  RETURN NEW;
END
